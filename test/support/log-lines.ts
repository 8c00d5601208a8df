import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A logger that keeps the lines it writes, parsed, for a test to check them (the harness's `logger` setting). */
export function keptLogLines(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (line, _, done) => done(void lines.push(JSON.parse(String(line)))) }));
  return { logger, lines };
}
