import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { floe } from './floe-cli';

// `floe state` against the project's default local backend and `floe config` on the pg-jsonl fixture: no
// plugin runs, so no install is needed.
const FIXTURE = path.resolve(__dirname, '../../fixtures/projects/pg-jsonl');
const ID = 'dev:tap-postgres-to-target-jsonl';
const CHILD = path.join(__dirname, 'floe-child.ts');
const OTHER = 'dev:tap-postgres-to-target-postgres';

describe('cli/state and cli/config', () => {
  let root: string;
  const env: NodeJS.ProcessEnv = { ...process.env, TAP_POSTGRES_HOST: 'db.example', TAP_POSTGRES_PASSWORD: 's3cret' };
  delete env.MELTANO_ENVIRONMENT;
  const run = (...args: string[]) => floe(args, { cwd: root, env });

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-state-cli-'));
    await cp(FIXTURE, root, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('sets, merges, gets, copies, moves and clears state with Meltano semantics', async () => {
    assert.deepEqual(await run('state', 'set', ID, '{"singer_state": {"bookmarks": {"a": {"x": 1}}}}', '--force'), {
      code: 0,
      stdout: `State for '${ID}' was set.\n`,
      stderr: '',
    });
    const merged = await run('state', 'merge', ID, '{"singer_state": {"bookmarks": {"b": {"y": 2}}}}');
    assert.equal(
      merged.stdout,
      `State for '${ID}' was merged; it is now: {"singer_state":{"bookmarks":{"a":{"x":1},"b":{"y":2}}}}\n`,
    );
    assert.deepEqual(JSON.parse((await run('state', 'get', ID)).stdout), {
      singer_state: { bookmarks: { a: { x: 1 }, b: { y: 2 } } },
    });
    assert.equal((await run('state', 'copy', ID, OTHER)).code, 0);
    assert.equal((await run('state', 'move', OTHER, 'elsewhere')).code, 0);
    assert.equal((await run('state', 'list')).stdout, `${ID}\nelsewhere\n`);
    assert.deepEqual(JSON.parse((await run('--format', 'json', 'state', 'list')).stdout), [
      { state_id: ID, status: 'valid' },
      { state_id: 'elsewhere', status: 'valid' },
    ]);
    // The copy holds the merged state as complete state.
    assert.deepEqual(JSON.parse((await run('state', 'export', '--pattern', 'else*')).stdout), {
      elsewhere: { completed: { singer_state: { bookmarks: { a: { x: 1 }, b: { y: 2 } } } }, partial: {} },
    });
    assert.equal((await run('state', 'clear', 'elsewhere', '--force')).stdout, "State for 'elsewhere' was cleared.\n");
    assert.equal((await run('state', 'clear', '--all', '--force')).stdout, 'Cleared the state of 1 state ID(s).\n');
    assert.equal((await run('state', 'get', ID)).stdout, '{}\n');
  });

  it('exports and imports every record unchanged', async () => {
    await run('state', 'set', ID, '{"singer_state": {"bookmarks": {"a": 1}}}', '--force');
    await run('state', 'merge', ID, '{"singer_state": {"bookmarks": {"b": 2}}}');
    const exported = (await run('state', 'export')).stdout;
    const file = path.join(root, 'export.json');
    await writeFile(file, exported);
    await run('state', 'clear', '--all', '--force');
    assert.equal((await run('state', 'import', file)).stdout, 'Imported the state of 1 state ID(s).\n');
    assert.equal((await run('state', 'export')).stdout, exported);
  });

  it('rejects state without singer_state (exit 2) and writes nothing', async () => {
    assert.deepEqual(await run('state', 'set', ID, '{"bookmarks": {}}', '--force'), {
      code: 2,
      stdout: '',
      stderr:
        'State from the STATE argument has no top-level "singer_state"; wrap the Singer state as {"singer_state": {...}}, or pass --no-validate to \'state set\'.\n',
    });
    assert.equal((await run('state', 'list')).stdout, '');
  });

  it('prints the resolved config with secrets redacted unless --unsafe', async () => {
    const safe = await run('config', 'print', 'tap-postgres');
    assert.deepEqual(JSON.parse(safe.stdout), {
      host: 'db.example',
      password: '(redacted)',
      filter_schemas: ['public'],
    });
    const unsafe = await run('config', 'print', 'tap-postgres', '--unsafe');
    assert.equal((JSON.parse(unsafe.stdout) as { password: string }).password, 's3cret');
    assert.equal(
      (await run('config', 'print', 'tap-postgres', '--env')).stdout,
      'TAP_POSTGRES_HOST=db.example\nTAP_POSTGRES_PASSWORD=(redacted)\nTAP_POSTGRES_FILTER_SCHEMAS=["public"]\n',
    );
  });

  it('lists every setting with its value and source', async () => {
    assert.equal(
      (await run('config', 'list', 'tap-postgres')).stdout,
      'host=db.example (from env)\nport (not set)\nuser (not set)\npassword=(redacted) (from env)\n' +
        'database (not set)\nfilter_schemas=["public"] (from meltano_yml)\n',
    );
    const rows = JSON.parse((await run('--format', 'json', 'config', 'list', 'tap-postgres', '--unsafe')).stdout) as {
      setting: string;
      value: unknown;
      source: string;
    }[];
    assert.deepEqual(
      rows.find((r) => r.setting === 'password'),
      { setting: 'password', value: 's3cret', source: 'env' },
    );
  });

  it('rejects an unknown plugin with the defined ones (exit 2)', async () => {
    assert.deepEqual(await run('config', 'print', 'tap-nope'), {
      code: 2,
      stdout: '',
      stderr:
        "Plugin 'tap-nope' is not defined in meltano.yml (defined: tap-postgres, tap-broken, tap-slow, target-state, target-discard, target-jsonl, target-postgres).\n",
    });
  });
});

describe('cli/run failures', () => {
  let root: string;
  const env = { ...process.env };
  delete env.MELTANO_ENVIRONMENT;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-run-fail-'));
    await cp(FIXTURE, root, { recursive: true });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('fails with the extractor failure, its log tail and exit 1, and skips the blocks after it', async () => {
    const r = await floe(['--format', 'json', 'run', 'broken-then-more'], { cwd: root, env });
    assert.equal(r.code, 1);
    const summary = JSON.parse(r.stdout) as {
      status: string;
      blocks: { block: string; status: string; records?: number }[];
    };
    assert.equal(summary.status, 'failed');
    assert.deepEqual(
      summary.blocks.map((b) => [b.block, b.status, b.records]),
      [
        ['tap-broken target-discard', 'failed', 1],
        ['tap-broken target-discard', 'skipped', undefined],
      ],
    );
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.includes('tap-broken | tap-broken: cannot reach the source'), r.stderr);
    assert.equal(
      lines.at(-1),
      "Run failed: block 'tap-broken target-discard' failed: Extractor failed: 'tap-broken' exited with code 3; the loader was let finish and the state it emitted was kept, see the extractor's log lines for the cause.",
    );
    assert.equal(
      (await floe(['state', 'list'], { cwd: root, env })).stdout,
      '',
      'a failed run without state leaves no state ID behind',
    );
  });
});

describe('cli/run cancellation', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-run-cancel-'));
    await cp(FIXTURE, root, { recursive: true });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stops the plugins on SIGINT, keeps the state saved so far and exits 1', async () => {
    const env = { ...process.env };
    delete env.MELTANO_ENVIRONMENT;
    const child = spawn(
      process.execPath,
      ['-r', require.resolve('tsx/cjs'), CHILD, 'run', 'tap-slow', 'target-state'],
      {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // The state file appears once the target's first state is persisted; the tap then hangs.
      const stateFile = path.join(root, '.meltano/state/dev:tap-slow-to-target-state/state.json');
      for (let i = 0; i < 600 && !existsSync(stateFile); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(stateFile), `no state was persisted: ${stderr}`);
      child.kill('SIGINT');
      assert.equal(await exited, 1, stderr);
    } finally {
      child.kill('SIGKILL');
    }
    assert.match(
      stdout,
      /^Block 'tap-slow target-state' cancelled in .* \(state ID 'dev:tap-slow-to-target-state', 1 state\(s\) saved\)\n/,
    );
    assert.ok(stderr.startsWith('Received SIGINT: stopping the plugins; state saved so far is kept.\n'), stderr);
    const state = await floe(['state', 'get', 'dev:tap-slow-to-target-state'], { cwd: root, env });
    assert.deepEqual(JSON.parse(state.stdout), { singer_state: { bookmarks: { s: { id: 1 } } } });
  });
});
