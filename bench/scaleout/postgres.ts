import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A database of its own on a PostgreSQL server, for ShareDB as it is deployed when it scales out:
 * its servers share one database (sharedb-postgres) besides the Redis pub/sub. ShareDB's memory
 * database is one process's, for tests (its README: "in-memory implementations of database and
 * pub/sub for unit testing"): two servers on it would each have their own documents.
 *
 * The server is the machine's own (BENCH_PG_URL, by default postgres@127.0.0.1:5432, trust auth),
 * not one the bench starts: PostgreSQL will not run as root. Each target gets a new database with
 * sharedb-postgres's tables, dropped when the target stops.
 */
export interface BenchDatabase {
  url: string;
  dispose(): Promise<void>;
}

const adminUrl = () => process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `tandem_bench_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl(), (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dispose = () =>
    withClient(adminUrl(), (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  try {
    const load = createRequire(join(process.cwd(), 'package.json'));
    const structure = readFileSync(load.resolve('sharedb-postgres/structure.sql'), 'utf8');
    await withClient(url.href, (client) => client.query(structure));
  } catch (error) {
    await dispose();
    throw error;
  }
  return { url: url.href, dispose };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * The PostgreSQL server's processes (postmaster, WAL writer, the connections' backends...): their
 * CPU is the database's share of a commit, as Redis's is for the relay. Read when a measured
 * window starts, once the pool's connections are open; nothing else uses this server meanwhile.
 */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
