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

/** A query that fails as unavailable (503) when Postgres does not answer within the deadline. */
export function bounded<T>(query: PromiseLike<T>): Promise<T> {
  return withDeadline(query, QUERY_DEADLINE_MS, () =>
    Object.assign(new Error(`Postgres did not answer within ${QUERY_DEADLINE_MS} ms`), { code: 'ETIMEDOUT' }),
  );
}

/** The client or a transaction of it: what a repository function runs its statement on. */
export type Db = Sql | postgres.TransactionSql;
