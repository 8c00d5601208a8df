import { pino, type Logger } from 'pino';

/** JSON logs on stdout; one logger per process, passed down (request lines carry `reqId`). */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
