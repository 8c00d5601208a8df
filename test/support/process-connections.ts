/**
 * Keep-alive connections to an engine with several API processes. A connection stays with the process
 * that accepted it, so a test can say which process answers: `/health/live` names it.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { HealthLive } from '../../src/contract.js';
import { body } from './answers.js';

interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** fail after this long without an answer */
  timeoutMs?: number;
}

/** One connection, and so one API process. */
export interface ProcessConnection {
  /** the API process at the other end */
  pid: number;
  /** a request on this connection (requests wait for each other); fails if the connection had to be replaced */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): void;
}

const PROBE_TIMEOUT_MS = 5_000;

async function connect(url: string): Promise<ProcessConnection> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let socket: Socket | undefined;
  const send: ProcessConnection['fetch'] = (path, init = {}) =>
    new Promise((resolve, reject) => {
      const req = http.request(new URL(path, url), { agent, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
        if (socket !== undefined && res.socket !== socket) {
          res.resume();
          reject(new Error('the connection was replaced: its requests may have reached another process'));
          return;
        }
        socket = res.socket;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          resolve(new Response(text, { status: res.statusCode!, headers }));
        });
      });
      req.on('error', reject);
      if (init.timeoutMs !== undefined) req.setTimeout(init.timeoutMs, () => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
      req.end(init.body);
    });
  try {
    // a connection handed to a process as it dies is never answered
    const { pid } = await body(send('/health/live', { timeoutMs: PROBE_TIMEOUT_MS }), HealthLive);
    return { pid, fetch: send, close: () => agent.destroy() };
  } catch (err) {
    agent.destroy();
    throw err;
  }
}

/**
 * `perProcess` connections to each of `processes` API processes, grouped by process; waits (up to
 * `timeoutMs`) for processes still starting.
 */
export async function connectionsToEach(url: string, processes: number, perProcess = 1, timeoutMs = 30_000): Promise<ProcessConnection[][]> {
  const byPid = new Map<number, ProcessConnection[]>();
  const complete = () => byPid.size === processes && [...byPid.values()].every((list) => list.length === perProcess);
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  while (!complete()) {
    if (Date.now() > deadline || byPid.size > processes) {
      for (const list of byPid.values()) for (const conn of list) conn.close();
      throw new Error(`wanted ${perProcess} connections to each of ${processes} API processes; reached pids ${[...byPid.keys()].join(', ')}`, { cause: failure });
    }
    // a process that has just died may still be handed a connection, which then fails or hangs
    const c = await connect(url).catch((err: unknown) => void (failure = err));
    const list = (c && byPid.get(c.pid)) ?? [];
    if (c && list.length < perProcess) byPid.set(c.pid, [...list, c]);
    else {
      c?.close();
      // the rest may still be starting
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return [...byPid.values()];
}
