import postgres from 'postgres';
import { withDeadline } from '../deadline.js';

export type Sql = postgres.Sql;

/** The one Postgres client of a process. Connection failures surface as errors, never as hangs. */
export function createSql(url: string, opts: { max?: number } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: 5,
    idle_timeout: 30,
    onnotice: () => {},
    transform: { undefined: null },
  });
}

/** How long a request waits for Postgres before answering 503 (a silently dropping network never answers). */
const QUERY_DEADLINE_MS = 3_000;

const timedOut = () => Object.assign(new Error(`Postgres did not answer within ${QUERY_DEADLINE_MS} ms`), { code: 'ETIMEDOUT' });

/** A query that fails as unavailable (503) when Postgres does not answer within the deadline. */
export function bounded<T>(query: PromiseLike<T>): Promise<T> {
  return withDeadline(query, QUERY_DEADLINE_MS, timedOut);
}

/**
 * A request's one wait for a change in Postgres. The caller is answered unavailable (503) once the
 * deadline passes, while the work goes on; the work calls `check` in its transaction before each step
 * that must not happen once the caller was told it failed, the commit last of all, so that it rolls
 * back instead, and `made` once it has committed: what follows, bounded on its own, is no longer cut
 * short by the deadline. Only a commit already on its way at the deadline may still land.
 */
export class Deadline {
  private readonly at = Date.now() + QUERY_DEADLINE_MS;
  private answered = false;
  private committed = false;

  wait<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.committed) return;
        this.answered = true;
        reject(timedOut());
      }, Math.max(0, this.at - Date.now()));
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  check(): void {
    // (the flag as well as the clock: a timer may fire a millisecond before the clock reads `at`)
    if (this.answered || Date.now() >= this.at) throw timedOut();
  }

  made(): void {
    this.committed = true;
  }
}

/** The client or a transaction of it: what a repository function runs its statement on. */
export type Db = Sql | postgres.TransactionSql;
