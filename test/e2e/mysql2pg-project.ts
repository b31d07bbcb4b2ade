/**
 * Shared set-up of the e2e tests: a temp copy of test/fixtures/projects/mysql2pg with a unique project_id, the
 * environment a user would export for the worker and the CLI, and source/destination comparisons with values
 * normalised (decimals, dates, booleans, NULLs, unicode).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { MariaDb } from '../helpers/mariadb';
import type { TestPostgres } from '../helpers/postgres';
import { REPO_ROOT, uniqueName } from '../helpers/temporal';

export const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'projects', 'mysql2pg');
export const TARGET_SCHEMA = 'tap_mysql';
export const STATE_ID = 'dev:tap-mysql-to-target-postgres';

/** Copies the fixture project into a fresh temp dir with a unique project_id; returns the dir. */
export function copyProject(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `floe-e2e-${prefix}-`));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const yml = path.join(dir, 'meltano.yml');
  const text = fs.readFileSync(yml, 'utf8');
  fs.writeFileSync(yml, text.replace('project_id: floe-e2e-mysql2pg', `project_id: ${uniqueName('floe-e2e')}`));
  return dir;
}

/** The environment of every floe command and worker of a test: Temporal, task queue, plugin settings. */
export function projectEnv(o: {
  temporal: string;
  taskQueue: string;
  db: MariaDb;
  pg: TestPostgres;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(TEMPORAL_|FLOE_|MELTANO_|TAP_MYSQL_|TARGET_POSTGRES_)/.test(k)) delete env[k];
  }
  return {
    ...env,
    TEMPORAL_ADDRESS: o.temporal,
    TEMPORAL_NAMESPACE: 'default',
    FLOE_TASK_QUEUE: o.taskQueue,
    TAP_MYSQL_HOST: o.db.host,
    TAP_MYSQL_PORT: String(o.db.port),
    TAP_MYSQL_USER: o.db.user,
    TAP_MYSQL_PASSWORD: o.db.password,
    TAP_MYSQL_DATABASE: o.db.database,
    TARGET_POSTGRES_HOST: o.pg.host,
    TARGET_POSTGRES_PORT: String(o.pg.port),
    TARGET_POSTGRES_USER: o.pg.user,
    TARGET_POSTGRES_PASSWORD: o.pg.password,
    TARGET_POSTGRES_DATABASE: o.pg.database,
  };
}

export type ColumnKind = 'int' | 'dec' | 'date' | 'ts' | 'bool' | 'text';

export interface TableSpec {
  table: string;
  key: string;
  columns: Record<string, ColumnKind>;
}

export const SEED_TABLES: TableSpec[] = [
  {
    table: 'customers',
    key: 'id',
    columns: {
      id: 'int',
      name: 'text',
      email: 'text',
      balance: 'dec',
      birth_date: 'date',
      is_active: 'bool',
      notes: 'text',
      created_at: 'ts',
      updated_at: 'ts',
    },
  },
  {
    table: 'orders',
    key: 'id',
    columns: {
      id: 'int',
      customer_id: 'int',
      amount: 'dec',
      ordered_on: 'date',
      shipped_at: 'ts',
      status: 'text',
      updated_at: 'ts',
    },
  },
  { table: 'countries', key: 'code', columns: { code: 'text', name: 'text' } },
];

export const BULK_TABLE: TableSpec = {
  table: 'bulk_events',
  key: 'id',
  columns: { id: 'int', customer_id: 'int', amount: 'dec', label: 'text', happened_on: 'date', updated_at: 'ts' },
};

/** One value as comparable text: decimals without trailing zeros, dates without a time, booleans as 1/0. */
export function normalise(kind: ColumnKind, v: string | null): string | null {
  if (v === null) return null;
  switch (kind) {
    case 'dec':
      return v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v;
    case 'date':
      return v.slice(0, 10); // DATE lands as timestamp without time zone (docs/mysql.md §6)
    case 'ts':
      return v.replace('T', ' ').replace(/(\.0+)?(\+00(:00)?|Z)?$/, '');
    case 'bool':
      return v === 't' || v === 'true' || v === '1' ? '1' : '0';
    default:
      return v;
  }
}

/** The source table's rows, normalised, ordered by key. */
export async function sourceRows(db: MariaDb, spec: TableSpec): Promise<Record<string, string | null>[]> {
  const cols = Object.keys(spec.columns);
  const rows = await db.query(
    `SELECT ${cols.map((c) => `\`${c}\``).join(', ')} FROM floe_src.\`${spec.table}\` ORDER BY \`${spec.key}\``,
  );
  return rows.map((r) =>
    Object.fromEntries(cols.map((c) => [c, normalise(spec.columns[c] as ColumnKind, r[c] ?? null)])),
  );
}

/** Runs `fn` with a connected PostgreSQL client. */
export async function withPg<T>(pg: TestPostgres, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: pg.uri });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The destination table's live rows (not soft-deleted), normalised, ordered by key. */
export async function destinationRows(pg: TestPostgres, spec: TableSpec): Promise<Record<string, string | null>[]> {
  const cols = Object.keys(spec.columns);
  return withPg(pg, async (c) => {
    const res = await c.query<Record<string, string | null>>(
      `SELECT ${cols.map((col) => `"${col}"::text AS "${col}"`).join(', ')} FROM ${TARGET_SCHEMA}."${spec.table}" ` +
        `WHERE _sdc_deleted_at IS NULL ORDER BY "${spec.key}"`,
    );
    return res.rows.map((r) =>
      Object.fromEntries(cols.map((col) => [col, normalise(spec.columns[col] as ColumnKind, r[col] ?? null)])),
    );
  });
}

/** Asserts that every table of `specs` holds exactly the source rows in PostgreSQL. */
export async function assertSameRows(db: MariaDb, pg: TestPostgres, specs: TableSpec[]): Promise<void> {
  for (const spec of specs) {
    const [src, dst] = await Promise.all([sourceRows(db, spec), destinationRows(pg, spec)]);
    assert.deepEqual(dst, src, `rows of ${TARGET_SCHEMA}.${spec.table} differ from floe_src.${spec.table}`);
  }
}

/** Row count of a destination table (0 when the target has not created it yet). */
export async function destinationCount(pg: TestPostgres, table: string): Promise<number> {
  return withPg(pg, async (c) => {
    const res = await c
      .query<{ n: string }>(`SELECT count(*)::text AS n FROM ${TARGET_SCHEMA}."${table}"`)
      .catch(() => ({ rows: [{ n: '0' }] }));
    return Number(res.rows[0]?.n ?? 0);
  });
}

/** `MAX(updated_at)` of a source table as the tap writes it into its bookmark (`2024-01-04T23:59:59+00:00`). */
export async function sourceMaxUpdatedAt(db: MariaDb, table: string): Promise<string> {
  const [row] = await db.query(
    `SELECT DATE_FORMAT(MAX(updated_at), '%Y-%m-%dT%H:%i:%s+00:00') AS m FROM floe_src.\`${table}\``,
  );
  return row?.m as string;
}
