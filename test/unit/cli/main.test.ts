import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';
import { copyFixture, floe } from './harness';

const REPO = path.join(__dirname, '..', '..', '..');

describe('cli/main', () => {
  const cleanup: string[] = [];
  afterEach(() => {
    for (const dir of cleanup.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const project = (name: string) => {
    const dir = copyFixture(name);
    cleanup.push(dir);
    return dir;
  };

  it('prints help and exits 0 for the program, each group and each command', async () => {
    const root = project('commented');
    const cases = [
      ['--help'],
      ['job', '--help'],
      ['schedule', '--help'],
      ...['add', 'set', 'list', 'remove'].flatMap((c) => [
        ['job', c, '--help'],
        ['schedule', c, '--help'],
      ]),
    ];
    for (const args of cases) {
      const r = await floe(args, root);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: floe /, args.join(' '));
      assert.equal(r.stderr, '', args.join(' '));
    }
    const add = await floe(['schedule', 'add', '--help'], root);
    assert.match(add.stdout, /--catchup-window <duration>/);
    assert.match(add.stdout, /Global Options:\n\s+--format <format>/);
  });

  it('exits 2 on usage errors: unknown option, unknown command, missing argument, bad --format', async () => {
    const root = project('commented');
    const cases: [string[], RegExp][] = [
      [['job', 'list', '--bogus'], /^error: unknown option '--bogus'\n/],
      [['nope'], /^error: unknown command 'nope'\n/],
      [['job', 'remove'], /^error: missing required argument 'name'\n/],
      [['job', 'list', '--format', 'xml'], /^error: option '--format <format>' argument 'xml' is invalid\./],
      [['job'], /^Usage: floe job /],
    ];
    for (const [args, stderr] of cases) {
      const r = await floe(args, root);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, stderr, args.join(' '));
    }
  });

  it('makes every command exit 2 with the located message when meltano.yml is invalid', async () => {
    const root = project('cli-invalid');
    const file = path.join(root, 'meltano.yml');
    const before = fs.readFileSync(file, 'utf8');
    const message =
      "meltano.yml:13:13: schedules[0].interval '0 0 * *' is not a valid cron expression (5 fields expected, got 4). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.\n";
    const commands = [
      ['job', 'list'],
      ['job', 'add', 'x', '--tasks', 'tap-github target-jsonl'],
      ['job', 'set', 'gh', '--tasks', 'tap-github target-jsonl'],
      ['job', 'remove', 'gh'],
      ['schedule', 'list', '--format', 'json'],
      ['schedule', 'add', 'x', '--interval', '@daily', '--job', 'gh'],
      ['schedule', 'set', 'gh-daily', '--interval', '@daily'],
      ['schedule', 'remove', 'gh-daily'],
    ];
    for (const args of commands) {
      assert.deepEqual(await floe(args, root), { code: 2, stdout: '', stderr: message }, args.join(' '));
    }
    assert.equal(fs.readFileSync(file, 'utf8'), before);
  });

  it('exits 2 outside a project and finds the project through MELTANO_PROJECT_ROOT', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-cli-empty-'));
    cleanup.push(empty);
    const r = await floe(['job', 'list'], empty);
    assert.deepEqual(r, {
      code: 2,
      stdout: '',
      stderr: `${path.join(empty, 'meltano.yml')}: the file does not exist. Run floe from a Meltano project directory or set MELTANO_PROJECT_ROOT to one.\n`,
    });
    const root = project('commented');
    const viaEnv = await floe(['job', 'list', 'github-to-jsonl'], empty, { MELTANO_PROJECT_ROOT: root });
    assert.deepEqual(viaEnv, { code: 0, stdout: "github-to-jsonl: ['tap-github target-jsonl']\n", stderr: '' });
  });

  it('exits 1 with one line for an unexpected failure, and the stack with FLOE_DEBUG=1', async () => {
    const root = project('commented');
    const run = async (env: NodeJS.ProcessEnv) => {
      let stderr = '';
      const code = await main(['node', 'floe', 'job', 'list'], {
        cwd: root,
        env,
        stdout: {
          write: () => {
            throw new Error('write EPIPE');
          },
        },
        stderr: { write: (s: string) => (stderr += s) },
      });
      return { code, stderr };
    };
    assert.deepEqual(await run({}), {
      code: 1,
      stderr: 'floe: unexpected error: write EPIPE (set FLOE_DEBUG=1 for details)\n',
    });
    const debug = await run({ FLOE_DEBUG: '1' });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^floe: unexpected error: write EPIPE\nError: write EPIPE\n {4}at /);
  });

  it('runs end to end through bin/floe.js', function () {
    // A cold tsx start compiles the CLI's imports.
    this.timeout(60_000);
    const root = project('commented');
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'floe.js'), 'job', 'list', '--format', 'json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MELTANO_PROJECT_ROOT: '' },
    });
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.deepEqual(JSON.parse(r.stdout), {
      jobs: [
        {
          job_name: 'warehouse',
          tasks: ['tap-github target-postgres', 'tap-postgres target-postgres', 'dbt-postgres:run'],
        },
        { job_name: 'github-to-jsonl', tasks: ['tap-github target-jsonl'] },
      ],
    });
    const bad = spawnSync(process.execPath, [path.join(REPO, 'bin', 'floe.js'), 'job', 'remove', 'warehouse'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MELTANO_PROJECT_ROOT: '' },
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^Job 'warehouse' is used by schedule 'nightly-warehouse'/);
  });
});
