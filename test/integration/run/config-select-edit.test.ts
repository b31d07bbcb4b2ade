import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { editDotenvText, pythonRepr } from '../../../src/cli/config';
import { floe } from './floe-cli';

// meltano.yml edits through `floe config set|unset` and `floe select`, `floe config test` against shell taps,
// and `floe install --schedule` on plugins without pip_url (nothing is downloaded).
const FIXTURE = path.resolve(__dirname, '../../fixtures/projects/parity-cli');

describe('cli/config set|unset|test, cli/select edits, cli/install --schedule', () => {
  let root: string;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MELTANO_ENVIRONMENT;
  for (const k of Object.keys(env)) if (k.startsWith('TAP_ROWS_')) delete env[k];
  const run = (...args: string[]) => floe(args, { cwd: root, env });
  const yml = () => readFile(path.join(root, 'meltano.yml'), 'utf8');
  const dotenv = () => readFile(path.join(root, '.env'), 'utf8').catch(() => '(none)');

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-config-edit-'));
    await cp(FIXTURE, root, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('sets settings in meltano.yml (cast to their kind, dotted names nested) keeping comments', async () => {
    const before = await yml();
    assert.deepEqual(await run('config', 'set', 'tap-rows', 'port', '5433'), {
      code: 0,
      stdout: "Extractor 'tap-rows' setting 'port' was set in `meltano.yml`: 5433\n",
      stderr: '',
    });
    assert.equal(
      (await run('config', 'set', 'tap-rows', 'batch.size', '100')).stdout,
      "Extractor 'tap-rows' setting 'batch.size' was set in `meltano.yml`: 100\n",
    );
    assert.equal(
      (await run('config', 'set', 'tap-rows', 'extra', 'level', "it's")).stdout,
      `Extractor 'tap-rows' setting 'extra.level' was set in \`meltano.yml\`: "it's"\n`,
    );
    assert.equal(
      await yml(),
      before.replace(
        '      host: db.internal   # keep this comment\n',
        "      host: db.internal   # keep this comment\n      port: 5433\n      batch:\n        size: 100\n      extra:\n        level: it's\n",
      ),
    );
    assert.deepEqual(JSON.parse((await run('config', 'print', 'tap-rows')).stdout), {
      host: 'db.internal',
      port: 5433,
      batch: { size: 100 },
      extra: { level: "it's" },
    });
  });

  it('puts sensitive settings in .env and says when another layer still wins', async () => {
    const before = await yml();
    assert.deepEqual(await run('config', 'set', 'tap-rows', 'password', "s3'cret"), {
      code: 0,
      stdout: "Extractor 'tap-rows' setting 'password' was set in `.env`: (redacted)\n",
      stderr: '',
    });
    assert.equal(await dotenv(), "TAP_ROWS_PASSWORD='s3\\'cret'\n");
    assert.equal(await yml(), before, 'a secret never goes to meltano.yml');
    const r = await floe(['config', 'set', 'tap-rows', 'host', 'db2', '--store', 'dotenv'], {
      cwd: root,
      env: { ...env, TAP_ROWS_HOST: 'from-shell' },
    });
    assert.deepEqual(r, {
      code: 0,
      stdout: "Extractor 'tap-rows' setting 'host' was set in `.env`: 'db2'\n",
      stderr: "Current value is still: 'from-shell' (from the environment)\n",
    });
    assert.equal(await dotenv(), "TAP_ROWS_PASSWORD='s3\\'cret'\nTAP_ROWS_HOST='db2'\n");
    assert.equal(
      JSON.parse((await run('config', 'print', 'tap-rows', '--unsafe')).stdout).password as string,
      "s3'cret",
    );
    assert.deepEqual(await run('config', 'unset', 'tap-rows', 'host'), {
      code: 0,
      stdout: "Extractor 'tap-rows' setting 'host' was unset in `meltano.yml` and `.env`.\n",
      stderr: '',
    });
    assert.equal(await dotenv(), "TAP_ROWS_PASSWORD='s3\\'cret'\n");
    assert.equal(await yml(), before.replace('    config:\n      host: db.internal   # keep this comment\n', ''));
    assert.equal(
      (await run('config', 'unset', 'tap-rows', 'host')).stdout,
      "Extractor 'tap-rows' setting 'host' was not set in `meltano.yml` or `.env`; nothing was changed.\n",
    );
  });

  it('writes under the explicit environment only (default_environment is ignored, as by meltano config)', async () => {
    const r = await floe(['config', 'set', 'tap-rows', 'port', '6543'], {
      cwd: root,
      env: { ...env, MELTANO_ENVIRONMENT: 'prod' },
    });
    assert.equal(
      r.stdout,
      "Extractor 'tap-rows' setting 'port' was set in the active environment in `meltano.yml`: 6543\n",
    );
    assert.ok(
      (await yml()).includes(
        '- name: prod\n  config:\n    plugins:\n      extractors:\n      - name: tap-rows\n        config:\n          port: 6543\nplugins:',
      ),
      await yml(),
    );
    assert.equal(
      (await run('config', 'unset', 'tap-rows', 'port', '--environment', 'prod')).stdout,
      "Extractor 'tap-rows' setting 'port' was unset in the active environment in `meltano.yml`.\n",
    );
  });

  it('rejects a value of the wrong kind, a missing environment and an unknown extra, leaving both files unchanged', async () => {
    const before = await yml();
    const cases: [string[], string][] = [
      [
        ['config', 'set', 'tap-rows', 'port', 'abc'],
        "Setting 'port' of extractor 'tap-rows' (from the command line) is 'abc', which is not an integer. Use a whole number such as 5432.\n",
      ],
      [
        ['config', 'set', 'tap-rows', '_select', 'users'],
        `Setting '_select' of extractor 'tap-rows' (from the command line) is 'users', which is not a JSON array. Write it as JSON, e.g. '["a", "b"]'.\n`,
      ],
      [
        ['config', 'set', 'tap-rows', 'host', 'x', '--store', 'meltano_environment'],
        "--store meltano_environment needs an environment: pass --environment <name> or set MELTANO_ENVIRONMENT (default_environment is ignored by 'floe config').\n",
      ],
      [
        ['config', 'set', 'tap-rows', 'host', 'x', '--environment', 'staging'],
        "Environment 'staging' is not defined in meltano.yml (defined: dev, prod); add it under 'environments' or choose another with --environment.\n",
      ],
      [
        ['config', 'set', 'tap-rows', '_dialect', 'x'],
        "Setting '_dialect' is not an extra of extractor 'tap-rows' (extras: _log_parser, _catalog, _state, _load_schema, _select, _metadata, _schema, _select_filter, _use_cached_catalog); extras start with '_', other settings do not.\n",
      ],
      [
        ['config', 'set', 'tap-rows', 'port'],
        "Give a setting and a value, e.g. 'floe config set tap-rows host db.example'.\n",
      ],
    ];
    for (const [args, stderr] of cases) {
      assert.deepEqual(await run(...args), { code: 2, stdout: '', stderr }, args.join(' '));
    }
    assert.equal(await yml(), before);
    assert.equal(await dotenv(), '(none)');
  });

  it('sets an extra as a top-level key of the plugin', async () => {
    assert.equal(
      (await run('config', 'set', 'tap-rows', '_select', '["orders.*"]')).stdout,
      "Extractor 'tap-rows' setting '_select' was set in `meltano.yml`: ['orders.*']\n",
    );
    assert.ok((await yml()).includes('    select:\n    - orders.*\n  - name: tap-empty'), await yml());
  });

  it('adds, excludes, removes and clears select patterns as meltano select does', async () => {
    const before = await yml();
    assert.deepEqual(await run('select', 'tap-rows', 'orders', 'id'), {
      code: 0,
      stdout: "Added select pattern 'orders.id' to extractor 'tap-rows' in meltano.yml.\n",
      stderr: '',
    });
    assert.equal(
      (await run('select', 'tap-rows', 'users', 'password', '--exclude')).stdout,
      "Added select pattern '!users.password' to extractor 'tap-rows' in meltano.yml.\n",
    );
    assert.equal(
      (await run('select', 'tap-rows', 'orders', 'id')).stdout,
      "Select pattern 'orders.id' is already in the select list of extractor 'tap-rows' in meltano.yml; nothing was changed.\n",
    );
    assert.equal(
      await yml(),
      before.replace('    - users.*\n', "    - users.*\n    - orders.id\n    - '!users.password'\n"),
    );
    assert.equal(
      (await run('select', 'tap-rows', 'users', '--rm')).stdout,
      "Removed select pattern 'users.*' from extractor 'tap-rows' in meltano.yml.\n",
    );
    const edited = await yml();
    assert.deepEqual(await run('select', 'tap-rows', 'users', '--remove'), {
      code: 2,
      stdout: '',
      stderr:
        "Select pattern 'users.*' is not in the select list of extractor 'tap-rows' in meltano.yml (patterns: orders.id, !users.password); nothing was changed.\n",
    });
    assert.equal(await yml(), edited, 'a rejected removal leaves the file unchanged');
    assert.equal(
      (await run('select', 'tap-rows', 'users', '--environment', 'prod')).stdout,
      "Added select pattern 'users.*' to extractor 'tap-rows' in environment 'prod' in meltano.yml.\n",
    );
    assert.equal(
      (await run('select', 'tap-rows', '--clear')).stdout,
      "Cleared the select patterns of extractor 'tap-rows' in meltano.yml.\n",
    );
    assert.ok((await yml()).includes('    select: []\n'), await yml());
  });

  it('rejects a select edit without a pattern, on a loader, or mixed with --list', async () => {
    const before = await yml();
    const cases: [string[], string][] = [
      [
        ['select', 'tap-rows'],
        "Give a pattern to add, e.g. 'floe select tap-rows users id' (or '--rm' to remove one), or list the selection with 'floe select tap-rows --list'.\n",
      ],
      [
        ['select', 'target-discard', 'users'],
        "Extractor 'target-discard' is not defined in meltano.yml (defined: tap-rows, tap-empty, tap-fails).\n",
      ],
      [
        ['select', 'tap-rows', 'users', '--list'],
        "'floe select tap-rows --list' takes no pattern and no --exclude, --rm or --clear; list and edit in separate commands.\n",
      ],
    ];
    for (const [args, stderr] of cases)
      assert.deepEqual(await run(...args), { code: 2, stdout: '', stderr }, args.join(' '));
    assert.equal(await yml(), before);
  });

  it('tests an extractor until its first record, and explains a tap without records or one that fails', async () => {
    assert.deepEqual(await run('config', 'test', 'tap-rows'), {
      code: 0,
      stdout: 'Plugin configuration is valid\n',
      stderr: '',
    });
    assert.deepEqual(await run('config', 'test', 'tap-empty'), {
      code: 1,
      stdout: '',
      stderr:
        "Plugin configuration is invalid\nNo RECORD or BATCH message received. Verify that at least one stream is selected using 'floe select tap-empty --list'.\nRun 'floe config list tap-empty' to review the plugin settings.\n",
    });
    assert.deepEqual(await run('config', 'test', 'tap-fails'), {
      code: 1,
      stdout: '',
      stderr:
        "Plugin configuration is invalid\ntap-fails: authentication failed for user 'x'\nRun 'floe config list tap-fails' to review the plugin settings.\n",
    });
    assert.deepEqual(await run('config', 'test', 'target-discard'), {
      code: 2,
      stdout: '',
      stderr:
        "floe config test supports extractors only: 'target-discard' is a loader (testing a loader writes test data to its destination); run a small pipeline with 'floe run' instead.\n",
    });
  });

  it("installs only a schedule's plugins", async () => {
    assert.deepEqual(await run('install', '--schedule', 'rows-daily'), {
      code: 0,
      stdout:
        'Installing 3 plugin(s)...\n' +
        "Skipped extractor 'tap-rows': no pip_url: runs './bin/tap-rows' from the project or PATH\n" +
        "Skipped loader 'target-discard': no pip_url: runs './bin/target-discard' from the project or PATH\n" +
        "Skipped mapper 'map-passthrough': no pip_url: runs './bin/map-passthrough' from the project or PATH\n",
      stderr: '',
    });
    assert.deepEqual(
      (JSON.parse((await run('--format', 'json', 'install', '-s', 'legacy')).stdout) as { name: string }[]).map(
        (r) => r.name,
      ),
      ['tap-empty', 'target-discard'],
    );
    assert.deepEqual(await run('install', '--schedule', 'nope'), {
      code: 2,
      stdout: '',
      stderr:
        "Schedule 'nope' is not defined in meltano.yml (defined: rows-daily, legacy); check the name with 'floe schedule list'.\n",
    });
    assert.deepEqual(await run('install', 'tap-rows', '--schedule', 'legacy'), {
      code: 2,
      stdout: '',
      stderr:
        "Give plugin names or --schedule 'legacy', not both; --schedule installs exactly the plugins the schedule uses.\n",
    });
  });

  it('refuses venv.backend uv when there is no uv, and rejects an unknown MELTANO_VENV_BACKEND', async () => {
    await writeFile(path.join(root, 'meltano.yml'), `${await yml()}venv:\n  backend: uv\n`);
    const noUv = { ...env, PATH: '/nonexistent', UV: '' };
    assert.deepEqual(await floe(['install', 'tap-rows'], { cwd: root, env: noUv }), {
      code: 2,
      stdout: 'Installing 1 plugin(s)...\n',
      stderr:
        "venv.backend is 'uv' but no uv was found (UV, .floe/tools/venv/bin/uv or PATH); run 'node scripts/ensure-tools.js' or set venv.backend to virtualenv.\n",
    });
    assert.deepEqual(
      await floe(['install', 'tap-rows'], { cwd: root, env: { ...noUv, MELTANO_VENV_BACKEND: 'conda' } }),
      {
        code: 2,
        stdout: '',
        stderr: "MELTANO_VENV_BACKEND 'conda' is not a venv backend; use virtualenv or uv.\n",
      },
    );
  });

  it('formats values as Python repr and edits .env lines in place', () => {
    assert.deepEqual(
      [
        pythonRepr('a'),
        pythonRepr("it's"),
        pythonRepr(5),
        pythonRepr(true),
        pythonRepr(['x', 1]),
        pythonRepr({ k: null }),
      ],
      ["'a'", `"it's"`, '5', 'True', "['x', 1]", "{'k': None}"],
    );
    assert.equal(editDotenvText('A=1\n# note\nexport B=2\n', 'B', 'x'), "A=1\n# note\nB='x'\n");
    assert.equal(editDotenvText('A=1\nB=2\nB=3\n', 'B', undefined), 'A=1\n');
    assert.equal(editDotenvText('A=1', 'C', 'y'), "A=1\nC='y'\n");
  });
});
