/**
 * The Meltano docs' "orchestrate data" pipeline end to end, as a user types it: MariaDB -> tap-mysql ->
 * target-postgres -> PostgreSQL, job and hourly schedule added with floe, a `floe worker` process, manual
 * triggers, incremental second run, run history.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startMariaDb } from '../helpers/mariadb';
import type { MariaDb } from '../helpers/mariadb';
import { startPostgres } from '../helpers/postgres';
import type { TestPostgres } from '../helpers/postgres';
import { REPO_ROOT, getTestTemporal, uniqueName } from '../helpers/temporal';
import { floeOk, startWorker } from '../helpers/floe-process';
import type { FloeWorker } from '../helpers/floe-process';
import {
  SEED_TABLES,
  STATE_ID,
  TARGET_SCHEMA,
  assertSameRows,
  copyProject,
  projectEnv,
  sourceMaxUpdatedAt,
  withPg,
} from './mysql2pg-project';

interface ShownRun {
  status: string;
  blocks: { block: string; status: string; records?: number; streams?: Record<string, { records: number }> }[];
}

/** Records per source table in a run's block summary (stream IDs are `floe_src-<table>`). */
function recordsByTable(run: ShownRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stream, c] of Object.entries(run.blocks[0]?.streams ?? {})) {
    out[stream.slice(stream.lastIndexOf('-') + 1)] = c.records;
  }
  return out;
}

async function batchedAt(pg: TestPostgres): Promise<Map<string, string>> {
  return withPg(pg, async (c) => {
    const res = await c.query<{ id: string; at: string }>(
      `SELECT id::text AS id, _sdc_batched_at::text AS at FROM ${TARGET_SCHEMA}.customers`,
    );
    return new Map(res.rows.map((r) => [r.id, r.at]));
  });
}

describe('e2e: mysql2pg (the Meltano docs pipeline) with floe', function () {
  this.timeout(600_000);
  let db: MariaDb | undefined;
  let pg: TestPostgres | undefined;
  let worker: FloeWorker | undefined;
  let root: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const seed = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'mysql', 'seed.sql'), 'utf8');
    [db, pg] = await Promise.all([startMariaDb(), startPostgres()]);
    await db.query(seed);
    const t = await getTestTemporal();
    root = copyProject('main');
    env = projectEnv({ temporal: t.address, taskQueue: uniqueName('e2e-mysql2pg'), db, pg });
  });

  after(async () => {
    await worker?.stop();
    await Promise.all([db?.stop(), pg?.stop()]);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('installs, schedules, runs, loads only changes on the next run, and lists both runs', async () => {
    const o = { cwd: root, env };
    const sdb = db as MariaDb;
    const spg = pg as TestPostgres;
    await floeOk(['install'], o);
    await floeOk(['job', 'add', 'mysql2pg', '--tasks', 'tap-mysql target-postgres'], o);
    await floeOk(['schedule', 'add', 'mysql2pg', '--job', 'mysql2pg', '--interval', '@hourly'], o);
    const listed = JSON.parse((await floeOk(['schedule', 'list', '--format', 'json'], o)).stdout) as unknown;
    assert.match(JSON.stringify(listed), /"mysql2pg"/);

    worker = startWorker([], o);
    await worker.ready();
    assert.match(worker.output(), /Schedules synced: \d+ created/);
    const described = JSON.parse(
      (await floeOk(['schedule', 'describe', 'mysql2pg', '--format', 'json'], o)).stdout,
    ) as { paused: boolean; nextRuns: string[] };
    assert.equal(described.paused, false);
    assert.match(described.nextRuns[0] ?? '', /T\d\d:00:00\.000Z$/); // @hourly: on the hour

    // Run 1: everything.
    const first = await floeOk(['trigger', 'mysql2pg', '--disable-retry', '--wait'], o);
    const firstId = /Run (\S+) succeeded/.exec(first.stdout)?.[1];
    assert.ok(firstId, first.stdout);
    assert.match(firstId, /^meltano_mysql2pg_mysql2pg-manual-/);
    await assertSameRows(sdb, spg, SEED_TABLES);
    const shown1 = JSON.parse((await floeOk(['runs', 'show', firstId, '--format', 'json'], o)).stdout) as ShownRun;
    assert.equal(shown1.status, 'COMPLETED');
    assert.deepEqual(recordsByTable(shown1), { customers: 4, orders: 3, countries: 3 });
    const before = await batchedAt(spg);
    const bookmarks = {
      customers: await sourceMaxUpdatedAt(sdb, 'customers'),
      orders: await sourceMaxUpdatedAt(sdb, 'orders'),
    };

    // Changes at the source: one new and one updated customer, one new order.
    await sdb.query(
      "SET time_zone = '+00:00';" +
        "INSERT INTO floe_src.customers (id, name, email, balance, birth_date, is_active, notes, created_at, updated_at) VALUES (5, 'Søren Ørsted', NULL, 42.10, '1777-08-14', 0, 'ἀλήθεια', '2024-03-01 00:00:00', '2024-03-01 00:00:00');" +
        "UPDATE floe_src.customers SET balance = 0.01, notes = NULL, updated_at = '2024-03-02 10:11:12' WHERE id = 2;" +
        "INSERT INTO floe_src.orders (id, customer_id, amount, ordered_on, shipped_at, status, updated_at) VALUES (103, 5, 1.2345, '2024-03-01', NULL, 'new', '2024-03-01 00:00:01');",
    );
    // INCREMENTAL compares with >=: the rows at the bookmark come again (docs/mysql.md §5), FULL_TABLE sends all.
    const expected: Record<string, number> = { countries: 3 };
    for (const table of ['customers', 'orders'] as const) {
      const [row] = await sdb.query(
        `SELECT COUNT(*) AS n FROM floe_src.${table} WHERE updated_at >= STR_TO_DATE('${bookmarks[table]}', '%Y-%m-%dT%H:%i:%s+00:00')`,
      );
      expected[table] = Number(row?.n);
    }
    assert.deepEqual(expected, { customers: 3, orders: 2, countries: 3 });

    // Run 2: only what changed.
    const second = await floeOk(['trigger', 'mysql2pg', '--disable-retry', '--wait'], o);
    const secondId = /Run (\S+) succeeded/.exec(second.stdout)?.[1];
    assert.ok(secondId, second.stdout);
    await assertSameRows(sdb, spg, SEED_TABLES);
    const shown2 = JSON.parse((await floeOk(['runs', 'show', secondId, '--format', 'json'], o)).stdout) as ShownRun;
    assert.deepEqual(recordsByTable(shown2), expected);
    const after = await batchedAt(spg);
    // Customers 1 and 3 were not sent again: their batch timestamps are those of run 1.
    assert.equal(after.get('1'), before.get('1'));
    assert.equal(after.get('3'), before.get('3'));
    assert.notEqual(after.get('2'), before.get('2'));
    assert.ok(after.has('5'));

    // The stored state is the source's newest updated_at per incremental table.
    const state = JSON.parse((await floeOk(['state', 'get', STATE_ID], o)).stdout) as {
      singer_state: { bookmarks: Record<string, { replication_key_value?: string }> };
    };
    assert.equal(
      state.singer_state.bookmarks['floe_src-customers']?.replication_key_value,
      await sourceMaxUpdatedAt(sdb, 'customers'),
    );
    assert.equal(
      state.singer_state.bookmarks['floe_src-orders']?.replication_key_value,
      await sourceMaxUpdatedAt(sdb, 'orders'),
    );

    const runs = JSON.parse((await floeOk(['runs', '--schedule', 'mysql2pg', '--format', 'json'], o)).stdout) as {
      runs: { workflowId: string; status: string; trigger?: string }[];
    };
    const ours = runs.runs.filter((r) => r.workflowId === firstId || r.workflowId === secondId);
    assert.deepEqual(
      ours.map((r) => [r.workflowId, r.status, r.trigger]),
      [
        [secondId, 'COMPLETED', 'manual'],
        [firstId, 'COMPLETED', 'manual'],
      ],
    );
  });
});
