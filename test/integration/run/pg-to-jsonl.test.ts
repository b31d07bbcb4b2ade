import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { findUv } from '../../../src/plugins/find-uv';
import { startPostgres } from '../../helpers/postgres';
import type { TestPostgres } from '../../helpers/postgres';
import { floe } from './floe-cli';

// Real plugins from PyPI (meltanolabs-tap-postgres 0.10.0, target-jsonl 0.1.4, meltanolabs-target-postgres
// 0.8.1) against a throw-away PostgreSQL 15: source table public.items, target database 'warehouse'.
const REPO_ROOT = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/projects/pg-jsonl');
const JSONL_STATE_ID = 'dev:tap-postgres-to-target-jsonl';
const PG_STATE_ID = 'dev:tap-postgres-to-target-postgres';

interface Row {
  id: number;
  name: string;
  updated_at: string;
}

describe('cli/run with real plugins (tap-postgres -> target-jsonl, target-postgres)', function () {
  this.timeout(600_000);
  let pg: TestPostgres;
  let source: Client;
  let root: string;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => floe(args, { cwd: root, env });

  const sourceRows = async (): Promise<Row[]> =>
    (
      await source.query<Row>(
        `SELECT id, name, to_char(updated_at, 'YYYY-MM-DD"T"HH24:MI:SS') AS updated_at FROM items ORDER BY id`,
      )
    ).rows;
  const outputRows = async (): Promise<Row[]> =>
    (await readFile(path.join(root, 'output', 'public-items.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Row)
      .map((r) => ({ id: r.id, name: r.name, updated_at: r.updated_at.slice(0, 19) }));
  const insert = async (from: number, to: number, day: number) => {
    for (let id = from; id <= to; id++) {
      await source.query(`INSERT INTO items VALUES ($1, $2, $3)`, [
        id,
        `item ${id}`,
        `2024-01-${String(day).padStart(2, '0')}T00:00:${String(id).padStart(2, '0')}Z`,
      ]);
    }
  };

  before(async () => {
    const uv = await findUv(REPO_ROOT);
    if (uv === undefined) {
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/ensure-tools.js')], { stdio: 'inherit' });
      assert.equal(r.status, 0, 'node scripts/ensure-tools.js failed');
    }
    pg = await startPostgres();
    source = new Client({ connectionString: pg.uri });
    await source.connect();
    await source.query("SET TIME ZONE 'UTC'");
    await source.query(
      'CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL)',
    );
    await source.query('CREATE DATABASE warehouse');
    await insert(1, 5, 1);
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-run-pg-'));
    await cp(FIXTURE, root, { recursive: true });
    env = {
      ...process.env,
      UV: await findUv(REPO_ROOT),
      TAP_POSTGRES_HOST: pg.host,
      TAP_POSTGRES_PORT: String(pg.port),
      TAP_POSTGRES_USER: pg.user,
      TAP_POSTGRES_PASSWORD: pg.password,
      TAP_POSTGRES_DATABASE: pg.database,
      TARGET_POSTGRES_HOST: pg.host,
      TARGET_POSTGRES_PORT: String(pg.port),
      TARGET_POSTGRES_USER: pg.user,
      TARGET_POSTGRES_PASSWORD: pg.password,
      TARGET_POSTGRES_DATABASE: 'warehouse',
    };
    delete env.MELTANO_ENVIRONMENT;
    const installed = await run('install', 'tap-postgres', 'target-jsonl', 'target-postgres');
    assert.equal(installed.code, 0, installed.stderr + installed.stdout);
    assert.deepEqual(
      installed.stdout
        .split('\n')
        .filter((l) => l !== '')
        .slice(1)
        .map((l) => l.replace(/ in .*/, ''))
        .sort(),
      ["Installed extractor 'tap-postgres'", "Installed loader 'target-jsonl'", "Installed loader 'target-postgres'"],
    );
  });

  after(async () => {
    await source?.end();
    await pg?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('reports every plugin up to date on a second install', async () => {
    const r = await run('install', 'target-jsonl');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Installing 1 plugin(s)...\nSkipped loader 'target-jsonl': up to date\n");
  });

  it('prints the planned blocks and state IDs on --dry-run and runs nothing', async () => {
    const r = await run('run', '--dry-run', 'pg-to-jsonl', 'tap-postgres', 'target-postgres');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "Dry run: would run block 1/2: tap-postgres target-jsonl (state ID 'dev:tap-postgres-to-target-jsonl')\n" +
        "Dry run: would run block 2/2: tap-postgres target-postgres (state ID 'dev:tap-postgres-to-target-postgres')\n",
    );
    assert.equal((await run('state', 'list')).stdout, '');
  });

  it('lists the selection of the discovered catalog with select --list (text and JSON)', async () => {
    const r = await run('select', 'tap-postgres', '--list', '--all');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Enabled patterns:\n\tpublic-items.*\n\nSelected and excluded attributes:\n' +
        '\t[automatic  ] public-items.id\n\t[selected   ] public-items.name\n\t[selected   ] public-items.updated_at\n',
    );
    const j = await run('--format', 'json', 'select', 'tap-postgres', '--list');
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), {
      enabled_patterns: ['public-items.*'],
      streams: [
        {
          tap_stream_id: 'public-items',
          selection: 'selected',
          properties: [
            { name: 'id', selection: 'automatic' },
            { name: 'name', selection: 'selected' },
            { name: 'updated_at', selection: 'selected' },
          ],
        },
      ],
    });
  });

  it('moves the table to JSONL, then only new rows, then everything again on --full-refresh', async () => {
    const first = await run('run', 'tap-postgres', 'target-jsonl');
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^Block 'tap-postgres target-jsonl' succeeded in .* \(state ID 'dev:tap-postgres-to-target-jsonl', 1 state\(s\) saved\)\n {2}public-items: 5 record\(s\)\nRun succeeded: 1 block\(s\) in /,
    );
    assert.deepEqual(await outputRows(), await sourceRows());

    const state = await run('state', 'get', JSONL_STATE_ID);
    assert.equal(state.code, 0, state.stderr);
    const bookmark = (
      JSON.parse(state.stdout) as { singer_state: { bookmarks: Record<string, Record<string, string>> } }
    ).singer_state.bookmarks['public-items'];
    assert.equal(bookmark?.replication_key, 'updated_at');
    assert.equal(bookmark?.replication_key_value?.slice(0, 19), '2024-01-01T00:00:05');

    await insert(6, 8, 2);
    const second = await run('--format', 'json', 'run', 'tap-postgres', 'target-jsonl');
    assert.equal(second.code, 0, second.stderr);
    const summary = JSON.parse(second.stdout) as { status: string; blocks: { stateId: string; records: number }[] };
    assert.equal(summary.status, 'succeeded');
    // The SDK filters with `updated_at >= bookmark`, so the bookmarked row comes again along with the new ones.
    assert.deepEqual(
      summary.blocks.map((b) => [b.stateId, b.records]),
      [[JSONL_STATE_ID, 4]],
    );
    const all = await sourceRows();
    assert.deepEqual(await outputRows(), [...all.slice(0, 5), ...all.slice(4)]);

    const full = await run('run', '--full-refresh', 'tap-postgres', 'target-jsonl');
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /\n {2}public-items: 8 record\(s\)\n/);
    assert.deepEqual((await outputRows()).slice(9), all);
    const after = JSON.parse((await run('state', 'get', JSONL_STATE_ID)).stdout) as {
      singer_state: { bookmarks: Record<string, Record<string, string>> };
    };
    assert.equal(
      after.singer_state.bookmarks['public-items']?.replication_key_value?.slice(0, 19),
      '2024-01-02T00:00:08',
    );
  });

  it('loads into target-postgres, upserting on the key, then only new and changed rows', async () => {
    const warehouse = new Client({ connectionString: pg.uri.replace(/\/postgres$/, '/warehouse') });
    await warehouse.connect();
    const loaded = async () =>
      (
        await warehouse.query<Row>(
          `SELECT id::int AS id, name, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS updated_at FROM raw.items ORDER BY id`,
        )
      ).rows;
    try {
      const first = await run('run', 'tap-postgres', 'target-postgres');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /\n {2}public-items: 8 record\(s\)\n/);
      assert.deepEqual(await loaded(), await sourceRows());

      await source.query(`UPDATE items SET name = 'renamed', updated_at = '2024-01-03T00:00:00Z' WHERE id = 2`);
      await insert(9, 10, 3);
      const second = await run('run', 'tap-postgres', 'target-postgres');
      assert.equal(second.code, 0, second.stderr);
      // Rows 8 (the bookmark), 2 (changed), 9 and 10.
      assert.match(second.stdout, /\n {2}public-items: 4 record\(s\)\n/);
      assert.deepEqual(await loaded(), await sourceRows());
      const state = JSON.parse((await run('state', 'get', PG_STATE_ID)).stdout) as {
        singer_state: { bookmarks: Record<string, Record<string, string>> };
      };
      assert.equal(
        state.singer_state.bookmarks['public-items']?.replication_key_value?.slice(0, 19),
        '2024-01-03T00:00:10',
      );
    } finally {
      await warehouse.end();
    }
  });

  it('refuses to run a plugin that is not installed, naming floe install (exit 2)', async () => {
    const bare = await mkdtemp(path.join(os.tmpdir(), 'floe-run-bare-'));
    try {
      await cp(FIXTURE, bare, { recursive: true });
      const r = await floe(['run', 'tap-postgres', 'target-jsonl'], { cwd: bare, env });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        `Plugin 'tap-postgres' (extractor) is not installed: ${bare}/.meltano/extractors/tap-postgres/venv/bin/tap-postgres does not exist. Run \`floe install tap-postgres\`.\n`,
      );
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});
