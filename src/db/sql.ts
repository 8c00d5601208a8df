import postgres from 'postgres';

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
