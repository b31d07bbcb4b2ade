import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFlagsFrom, runIdFrom, runTimeoutFrom } from '../../../src/cli/run';
import { floe } from './floe-cli';

// `floe run --timeout / --run-id / --merge-state` and the required environment, on the shell taps of the
// parity-cli fixture (tap-rows emits two records, then hangs until it is stopped).
const FIXTURE = path.resolve(__dirname, '../../fixtures/projects/parity-cli');
const CHILD = path.join(__dirname, 'floe-child.ts');
const RUN_ID = '0b8f2c8e-7d3a-4e0f-9c1b-2f6a5d4e3c21';

describe('cli/run flags', () => {
  let root: string;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MELTANO_')) delete env[k];
  const run = (...args: string[]) => floe(args, { cwd: root, env });

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-run-flags-'));
    await cp(FIXTURE, root, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('maps the hidden --merge-state to the merge strategy and rejects it with another strategy', () => {
    assert.equal(runFlagsFrom({ mergeState: true }, {}).stateStrategy, 'merge');
    assert.equal(runFlagsFrom({ mergeState: true, stateStrategy: 'auto' }, {}).stateStrategy, 'merge');
    assert.throws(() => runFlagsFrom({ mergeState: true }, { MELTANO_RUN_STATE_STRATEGY: 'overwrite' }), {
      name: 'UserError',
      message:
        "Cannot use both --merge-state and --state-strategy 'overwrite': --merge-state is the deprecated spelling of --state-strategy merge, give only one.",
    });
  });

  it('takes the run ID and timeout from the option, else MELTANO_RUN_ID / MELTANO_RUN_TIMEOUT', () => {
    assert.equal(runIdFrom({}, { MELTANO_RUN_ID: RUN_ID.toUpperCase() }), RUN_ID);
    assert.equal(runIdFrom({ runId: RUN_ID }, { MELTANO_RUN_ID: 'x' }), RUN_ID);
    assert.match(runIdFrom({}, {}), /^[0-9a-f-]{36}$/);
    assert.throws(() => runIdFrom({}, { MELTANO_RUN_ID: 'run-7' }), {
      message: "MELTANO_RUN_ID 'run-7' is not a UUID; use one like 0b8f2c8e-7d3a-4e0f-9c1b-2f6a5d4e3c21, or omit it.",
    });
    assert.deepEqual([runTimeoutFrom({}, { MELTANO_RUN_TIMEOUT: '90' }), runTimeoutFrom({}, {})], [90_000, undefined]);
    assert.throws(() => runTimeoutFrom({ timeout: '0' }, {}), {
      message: "--timeout '0' is not a whole number of seconds of at least 1; use e.g. --timeout 3600.",
    });
  });

  it('rejects the deprecated flag with a strategy on the command line (exit 2)', async () => {
    assert.deepEqual(await run('run', 'tap-rows', 'target-discard', '--merge-state', '--state-strategy', 'overwrite'), {
      code: 2,
      stdout: '',
      stderr:
        "Cannot use both --merge-state and --state-strategy 'overwrite': --merge-state is the deprecated spelling of --state-strategy merge, give only one.\n",
    });
  });

  it('requires an environment as meltano run does, naming every way to give one', async () => {
    const file = path.join(root, 'meltano.yml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('default_environment: dev\n', ''));
    assert.deepEqual(await run('run', 'tap-rows', 'target-discard', '--dry-run'), {
      code: 2,
      stdout: '',
      stderr:
        'floe run needs a Meltano environment, as meltano run does: pass --environment <name>, set MELTANO_ENVIRONMENT, or set default_environment in meltano.yml (defined: dev, prod).\n',
    });
    assert.equal(
      (
        await floe(['run', 'tap-rows', 'target-discard', '--dry-run'], {
          cwd: root,
          env: { ...env, MELTANO_ENVIRONMENT: 'prod' },
        })
      ).stdout,
      "Dry run: would run block 1/1: tap-rows target-discard (state ID 'prod:tap-rows-to-target-discard')\n",
    );
    await writeFile(
      file,
      text.replace('default_environment: dev\nenvironments:\n- name: dev   # the only environment\n- name: prod\n', ''),
    );
    assert.deepEqual(await run('run', 'tap-rows', 'target-discard'), {
      code: 2,
      stdout: '',
      stderr:
        "floe run needs a Meltano environment, as meltano run does, and meltano.yml defines none: add one (e.g. 'environments: [{name: dev}]' and 'default_environment: dev'), then pass --environment <name>, set MELTANO_ENVIRONMENT, or rely on default_environment.\n",
    });
  });

  it('stops the current block when the timeout expires, skips the rest and exits 1', async () => {
    const r = await run(
      'run',
      'tap-rows',
      'target-discard',
      'tap-empty',
      'target-discard',
      '--timeout',
      '2',
      '--run-id',
      RUN_ID,
    );
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] as string, /^Block 'tap-rows target-discard' cancelled in /);
    assert.equal(lines.at(-3), "Block 'tap-empty target-discard' skipped");
    assert.match(lines.at(-2) as string, new RegExp(`^Run cancelled: 2 block\\(s\\) in .* \\(run ID ${RUN_ID}\\)$`));
    assert.equal(
      r.stderr.trimEnd().split('\n').at(-1),
      "Run timed out after 2 s (--timeout / MELTANO_RUN_TIMEOUT): block 'tap-rows target-discard' was stopped and the blocks after it skipped; state saved so far is kept. Raise the timeout or run fewer blocks.",
    );
  });

  it("holds the state ID's lease under the given run ID", async () => {
    const child = spawn(
      process.execPath,
      ['-r', require.resolve('tsx/cjs'), CHILD, 'run', 'tap-rows', 'target-discard'],
      {
        cwd: root,
        env: { ...env, MELTANO_RUN_ID: RUN_ID },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // The run directory holds the tap's config once the lease is held and the plugins start.
      const runs = path.join(root, '.meltano/run/floe');
      const started = () => existsSync(runs) && readdirSync(runs).length > 0;
      for (let i = 0; i < 600 && !started(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(started(), `the first run did not start: ${stderr}`);
      const second = await run('run', 'tap-rows', 'target-discard');
      assert.equal(second.code, 1);
      assert.match(
        second.stderr,
        new RegExp(
          `^Another run of 'dev:tap-rows-to-target-discard' is already running: 'floe-run/${os.hostname()}/\\d+/${RUN_ID}' holds it since `,
        ),
      );
      child.kill('SIGINT');
      assert.equal(await exited, 1, stderr);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
