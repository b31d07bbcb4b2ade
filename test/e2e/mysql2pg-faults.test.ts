/**
 * The mysql2pg pipeline under faults, each injected while a run is loading new rows of a bulk table: the
 * worker killed, the target killed, MariaDB restarted, a second trigger, the Temporal server restarted. After
 * each, nothing is lost: the destination holds exactly the source rows and the stored state is the source's
 * newest updated_at. This file runs its own Temporal dev server (SQLite file, fixed port) so it can restart it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { startMariaDb } from '../helpers/mariadb';
import type { MariaDb } from '../helpers/mariadb';
import { startPostgres } from '../helpers/postgres';
import type { TestPostgres } from '../helpers/postgres';
import { REPO_ROOT, uniqueName } from '../helpers/temporal';
import { cmdlineOf, findDescendants, floe, floeOk, startWorker, waitFor } from '../helpers/floe-process';
import type { FloeRun, FloeWorker } from '../helpers/floe-process';
import { ensureTemporalCli } from '../../src/server/temporal-cli';
import { freePort, startDevServer } from '../../src/server/dev-server';
import type { DevServer } from '../../src/server/dev-server';
import { FLOE_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import {
  STATE_ID,
  TARGET_SCHEMA,
  copyProject,
  destinationCount,
  projectEnv,
  sourceMaxUpdatedAt,
  withPg,
} from './mysql2pg-project';

/** New rows per test: enough for several target batches (batch_size_rows below) and time to inject a fault. */
const ROWS_PER_TEST = 50_000;
const BATCH_SIZE_ROWS = 2_000;
const BULK_SQL = path.join(REPO_ROOT, 'test', 'fixtures', 'mysql', 'bulk-200k.sql');

interface ShownRun {
  status: string;
  blocks: { block: string; status: string; attempts?: number; records?: number }[];
}

/** The project's meltano.yml reduced to the bulk table, small target batches and fast retries. */
function configureForFaults(root: string): void {
  const file = path.join(root, 'meltano.yml');
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  doc.setIn(['plugins', 'extractors', 0, 'select'], ['floe_src-bulk_events.*']);
  doc.setIn(['plugins', 'extractors', 0, 'metadata'], {
    'floe_src-bulk_events': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
  });
  doc.setIn(['plugins', 'loaders', 0, 'config', 'batch_size_rows'], BATCH_SIZE_ROWS);
  fs.writeFileSync(file, doc.toString());
}

/** Adds the retry policy a user would write under the schedule's annotations.floe. */
function addRetryAnnotation(root: string): void {
  const file = path.join(root, 'meltano.yml');
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  doc.setIn(['schedules', 0, 'annotations', 'floe', 'retry'], {
    maximum_attempts: 6,
    initial_interval: '2s',
    backoff_coefficient: 1,
    maximum_interval: '5s',
  });
  fs.writeFileSync(file, doc.toString());
}

/** Source and destination bulk tables are equal: same count, same key sum, same sum of per-row hashes. */
async function assertBulkEqual(db: MariaDb, pg: TestPostgres): Promise<void> {
  const [src] = await db.query(
    'SELECT COUNT(*) AS n, SUM(id) AS ids, ' +
      "SUM(CONV(LEFT(MD5(CONCAT_WS('|', id, customer_id, amount, IFNULL(label, '<null>'), happened_on, updated_at)), 8), 16, 10)) AS h " +
      'FROM floe_src.bulk_events',
  );
  const dst = await withPg(pg, async (c) => {
    const res = await c.query<{ n: string; ids: string; h: string }>(
      'SELECT count(*)::text AS n, sum(id)::text AS ids, ' +
        "sum(('x' || left(md5(concat_ws('|', id, customer_id, amount::numeric(12,2), coalesce(label, '<null>'), " +
        "to_char(happened_on, 'YYYY-MM-DD'), to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS'))), 8))::bit(32)::bigint)::text AS h " +
        `FROM ${TARGET_SCHEMA}.bulk_events WHERE _sdc_deleted_at IS NULL`,
    );
    return res.rows[0];
  });
  assert.deepEqual(
    dst,
    { n: src?.n, ids: src?.ids, h: src?.h },
    'the bulk table in PostgreSQL differs from the source',
  );
}

describe('e2e: mysql2pg under faults', function () {
  this.timeout(600_000);
  let db: MariaDb | undefined;
  let pg: TestPostgres | undefined;
  let server: DevServer | undefined;
  let worker: FloeWorker | undefined;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let cliPath: string;
  let port: number;
  let dir: string;
  let loaded = 0;

  const o = () => ({ cwd: root, env });
  const startTemporal = (): Promise<DevServer> =>
    startDevServer({
      cliPath,
      port,
      headless: true,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
      searchAttributes: FLOE_SEARCH_ATTRIBUTES,
    });
  const newWorker = async (): Promise<FloeWorker> => {
    const w = startWorker([], o());
    await w.ready();
    return w;
  };

  /** Inserts the next `count` rows (newer updated_at), as new data arriving between runs. */
  async function insertRows(count = ROWS_PER_TEST): Promise<void> {
    const [from, to] = [loaded + 1, loaded + count];
    await (db as MariaDb).query(
      "SET time_zone = '+00:00'; USE floe_src; INSERT INTO bulk_events (id, customer_id, amount, label, happened_on, updated_at) " +
        "SELECT seq, 1 + seq MOD 4, (seq MOD 100000) / 100, IF(seq MOD 10 = 0, NULL, CONCAT('event ', seq, ' — ü')), " +
        "DATE('2024-01-01') + INTERVAL (seq MOD 365) DAY, TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq SECOND " +
        `FROM seq_${from}_to_${to};`,
    );
    loaded = to;
  }

  /** Resolves once the run has committed some of the new rows (so a fault now hits it mid-run). */
  async function waitMidRun(before: number, trigger?: Promise<FloeRun>): Promise<void> {
    let ended: FloeRun | undefined;
    void trigger?.then((r) => (ended = r));
    await waitFor(
      'the target to commit a first batch of the new rows',
      async () => {
        if (ended) throw new Error(`The run ended before the fault could be injected: ${ended.stdout}${ended.stderr}`);
        return (await destinationCount(pg as TestPostgres, 'bulk_events')) > before ? true : undefined;
      },
      300_000,
      200,
    );
  }

  async function assertNothingLost(): Promise<void> {
    await assertBulkEqual(db as MariaDb, pg as TestPostgres);
    const state = JSON.parse((await floeOk(['state', 'get', STATE_ID], o())).stdout) as {
      singer_state: { bookmarks: Record<string, { replication_key_value?: string }> };
    };
    assert.equal(
      state.singer_state.bookmarks['floe_src-bulk_events']?.replication_key_value,
      await sourceMaxUpdatedAt(db as MariaDb, 'bulk_events'),
    );
  }

  async function shown(workflowId: string): Promise<ShownRun> {
    return JSON.parse((await floeOk(['runs', 'show', workflowId, '--format', 'json'], o())).stdout) as ShownRun;
  }

  const runIdOf = (r: FloeRun): string => {
    const id = /Run (\S+) succeeded/.exec(r.stdout)?.[1];
    assert.ok(id, `no run ID in: ${r.stdout}${r.stderr}`);
    return id;
  };

  before(async () => {
    cliPath = await ensureTemporalCli(REPO_ROOT);
    port = await freePort();
    root = copyProject('faults');
    dir = fs.mkdtempSync(path.join(root, '.temporal-'));
    const bulk = fs.readFileSync(BULK_SQL, 'utf8').replace('seq_1_to_200000', `seq_1_to_${ROWS_PER_TEST}`);
    [db, pg, server] = await Promise.all([startMariaDb(), startPostgres(), startTemporal()]);
    await db.query(bulk);
    loaded = ROWS_PER_TEST;
    env = projectEnv({ temporal: server.address, taskQueue: uniqueName('e2e-faults'), db, pg });
    configureForFaults(root);
    await floeOk(['install'], o());
    await floeOk(['job', 'add', 'mysql2pg', '--tasks', 'tap-mysql target-postgres'], o());
    await floeOk(
      ['schedule', 'add', 'mysql2pg', '--job', 'mysql2pg', '--interval', '@hourly', '--overlap', 'skip'],
      o(),
    );
    addRetryAnnotation(root);
    worker = await newWorker();
    // The first load (the initial rows) is not under test: it gives the faults below a bookmark to start from.
    await floeOk(['trigger', 'mysql2pg', '--wait'], o());
    await assertNothingLost();
  });

  after(async () => {
    await worker?.stop();
    await Promise.all([db?.stop(), pg?.stop(), server?.stop()]);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('completes a run whose worker was killed (SIGKILL) mid-run, on another worker', async () => {
    const before = await destinationCount(pg as TestPostgres, 'bulk_events');
    await insertRows();
    const run = floe(['trigger', 'mysql2pg', '--wait'], o());
    await waitMidRun(before, run);
    const killed = worker as FloeWorker;
    const plugins = findDescendants(killed.pid, '/venv/bin/');
    await killed.kill();
    worker = await newWorker();
    const result = await run;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const s = await shown(runIdOf(result));
    assert.equal(s.status, 'COMPLETED');
    assert.ok((s.blocks[0]?.attempts ?? 0) >= 2, `expected a retried block: ${JSON.stringify(s.blocks)}`);
    await assertNothingLost();
    // The killed worker's plugins do not linger once their pipes are closed.
    await waitFor(
      "the killed worker's plugin processes to exit",
      () => (plugins.every((p) => cmdlineOf(p) === '') ? true : undefined),
      60_000,
    );
  });

  it('retries the block when the target is killed mid-run, and completes', async () => {
    const before = await destinationCount(pg as TestPostgres, 'bulk_events');
    await insertRows();
    const run = floe(['trigger', 'mysql2pg', '--wait'], o());
    await waitMidRun(before, run);
    const [target] = findDescendants((worker as FloeWorker).pid, 'bin/target-postgres');
    assert.ok(target, 'no target-postgres process under the worker');
    process.kill(target, 'SIGKILL');
    const result = await run;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const s = await shown(runIdOf(result));
    assert.ok((s.blocks[0]?.attempts ?? 0) >= 2, `expected a retried block: ${JSON.stringify(s.blocks)}`);
    await assertNothingLost();
  });

  it('retries the block when MariaDB restarts mid-run, and completes', async () => {
    const before = await destinationCount(pg as TestPostgres, 'bulk_events');
    // tap-mysql reconnects on its own when the server is away at connect time, and a result set that fits into
    // the socket buffers (~7 MB for 50,000 rows) is read in full before a restart can hit it: a larger load
    // keeps the server streaming rows while the target commits its first batches.
    await insertRows(3 * ROWS_PER_TEST);
    const run = floe(['trigger', 'mysql2pg', '--wait'], o());
    await waitMidRun(before, run);
    await (db as MariaDb).restart();
    const result = await run;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const s = await shown(runIdOf(result));
    assert.ok((s.blocks[0]?.attempts ?? 0) >= 2, `expected a retried block: ${JSON.stringify(s.blocks)}`);
    await assertNothingLost();
  });

  it('refuses a second trigger while a run is going (overlap skip) and loads once', async () => {
    const before = await destinationCount(pg as TestPostgres, 'bulk_events');
    const runsBefore = JSON.parse(
      (await floeOk(['runs', '--schedule', 'mysql2pg', '--format', 'json'], o())).stdout,
    ) as {
      runs: unknown[];
    };
    await insertRows();
    const started = JSON.parse((await floeOk(['trigger', 'mysql2pg', '--format', 'json'], o())).stdout) as {
      workflowId: string;
    };
    await waitMidRun(before);
    const second = await floe(['trigger', 'mysql2pg', '--wait'], o());
    assert.equal(second.code, 2, second.stdout + second.stderr);
    assert.equal(
      second.stderr.trim(),
      `Schedule 'mysql2pg' already has a run in progress (${started.workflowId}) and its overlap policy is skip; wait for it or cancel it.`,
    );
    const done = await waitFor(
      'the first run to complete',
      async () => {
        const s = await shown(started.workflowId);
        return s.status === 'RUNNING' ? undefined : s;
      },
      300_000,
      1000,
    );
    assert.equal(done.status, 'COMPLETED');
    // Loaded once: the new rows plus the one re-sent at the bookmark (INCREMENTAL uses >=), in one attempt.
    assert.equal(done.blocks[0]?.records, ROWS_PER_TEST + 1);
    assert.equal(done.blocks[0]?.attempts, 1);
    const runsAfter = JSON.parse(
      (await floeOk(['runs', '--schedule', 'mysql2pg', '--format', 'json'], o())).stdout,
    ) as {
      runs: unknown[];
    };
    assert.equal(runsAfter.runs.length, runsBefore.runs.length + 1);
    await assertNothingLost();
  });

  it('completes a run across a Temporal server restart, and keeps the schedule', async () => {
    const before = await destinationCount(pg as TestPostgres, 'bulk_events');
    await insertRows();
    const started = JSON.parse((await floeOk(['trigger', 'mysql2pg', '--format', 'json'], o())).stdout) as {
      workflowId: string;
    };
    await waitMidRun(before);
    await (server as DevServer).stop();
    server = await startTemporal();
    const done = await waitFor(
      'the run to complete after the restart',
      async () => {
        const r = await floe(['runs', 'show', started.workflowId, '--format', 'json'], o());
        if (r.code !== 0) return undefined; // the worker and the CLI reconnect; the server may still be warming up
        const s = JSON.parse(r.stdout) as ShownRun;
        return s.status === 'RUNNING' ? undefined : s;
      },
      300_000,
      2000,
    );
    assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
    await assertNothingLost();
    const described = JSON.parse(
      (await floeOk(['schedule', 'describe', 'mysql2pg', '--format', 'json'], o())).stdout,
    ) as {
      paused: boolean;
      overlap: unknown;
    };
    assert.equal(described.paused, false);
    const runs = JSON.parse((await floeOk(['runs', '--schedule', 'mysql2pg', '--format', 'json'], o())).stdout) as {
      runs: { workflowId: string; status: string }[];
    };
    // Every run of this file, the restart notwithstanding, is in the history and completed.
    assert.deepEqual(
      runs.runs.map((r) => r.status),
      runs.runs.map(() => 'COMPLETED'),
    );
    assert.ok(runs.runs.some((r) => r.workflowId === started.workflowId));
  });
});
