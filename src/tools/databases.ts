import postgres from 'postgres';
import { errorMessage } from './error-message.js';

const quiet = { onnotice: () => {} };

/** `url` with its database part replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Makes sure the database named in the URL exists, creating it through the server's `postgres`
 * database. Says whether it had to create it.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name || name === 'postgres') return false;
  const sql = postgres(withDatabase(databaseUrl, 'postgres'), { max: 1, connect_timeout: 5, ...quiet });
  try {
    const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (rows.length > 0) return false;
    await sql`CREATE DATABASE ${sql(name)}`;
    return true;
  } catch (err) {
    // 42P04 duplicate_database; 23505 is what a create racing another create of the same name gets.
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw new Error(`cannot make sure database "${name}" exists on ${url.host}: ${errorMessage(err)}`);
    return false;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A database created for one test file, engine process or bench run, next to the others on its server. */
export interface ScratchDatabase {
  name: string;
  url: string;
  /** drops it (WITH FORCE, so open connections do not block it) */
  drop(): Promise<void>;
}

/** Creates the database `name` on the server of `serverUrl` (any database URL of that server). */
export async function createScratchDatabase(serverUrl: string, name: string): Promise<ScratchDatabase> {
  const admin = postgres(serverUrl, { max: 1, ...quiet });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } catch (err) {
    await admin.end();
    throw err;
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Whether the server at `url` answers a query within about two seconds. */
export async function acceptsQueries(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, ...quiet });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
