/**
 * Busy keep-alive clients, as a storefront's backend is: each sends its requests one after another on
 * one kept-alive connection, never leaving it idle for long, until a request fails. What they saw tells
 * whether a server that stops lets every request it took in finish.
 */
import http from 'node:http';

export interface ClientRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What became of one request. */
export type Outcome =
  | { kind: 'answered'; status: number; body: string; connectionClose: boolean }
  /** no connection could be opened: the server no longer accepts */
  | { kind: 'refused' }
  /**
   * the connection closed before any answer came: on a `reused` connection, a request cut off in flight,
   * or one sent as the server closed the connection as idle (HTTP/1.1's keep-alive race: only the data
   * tells them apart); on a new one, a connection closed unread (the primary of several API processes
   * stopping with connections it has not handed to any yet)
   */
  | { kind: 'unanswered'; reused: boolean; error: string }
  /** the answer began and was cut off */
  | { kind: 'cut'; error: string };

export interface KeepAliveClients {
  /** answers received so far, by all clients */
  answered(): number;
  /** every request's outcome, client by client, once each client has stopped at its first failure */
  outcomes: Promise<Outcome[][]>;
}

function send(agent: http.Agent, url: string, r: ClientRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let started = false;
    const req = http.request(new URL(r.path, url), { agent, method: r.method, headers: r.headers }, (res) => {
      started = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ kind: 'answered', status: res.statusCode!, body, connectionClose: res.headers.connection === 'close' }));
      res.on('close', () => {
        if (!res.complete) resolve({ kind: 'cut', error: 'the answer ended early' });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (started) resolve({ kind: 'cut', error: `${err.code}: ${err.message}` });
      else if (err.code === 'ECONNREFUSED') resolve({ kind: 'refused' });
      else resolve({ kind: 'unanswered', reused: req.reusedSocket, error: `${err.code}: ${err.message}` });
    });
    req.end(r.body);
  });
}

/** `count` clients, each on its own keep-alive connection to `url`, sending `next(client)` until one request fails. */
export function startKeepAliveClients(url: string, count: number, next: (client: number) => ClientRequest): KeepAliveClients {
  let answered = 0;
  const run = async (client: number): Promise<Outcome[]> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const outcomes: Outcome[] = [];
    try {
      for (;;) {
        const outcome = await send(agent, url, next(client));
        outcomes.push(outcome);
        if (outcome.kind !== 'answered') return outcomes;
        answered++;
      }
    } finally {
      agent.destroy();
    }
  };
  return { answered: () => answered, outcomes: Promise.all(Array.from({ length: count }, (_, i) => run(i))) };
}
