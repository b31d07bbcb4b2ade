/**
 * `floe schedule sync|describe|pause|unpause`, `floe trigger` and `floe runs [show]` as a user runs them: the CLI
 * in-process through `main()` against the shared Temporal dev server, with a worker for a copy of the
 * orchestration-cli fixture polling a task queue of its own. Schedule IDs are namespace-wide, so the copy's
 * schedule gets a unique name (`numbers-hourly-<hex>`); the task queue keeps `floe runs` to this test's runs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../../src/activities';
import { REPO_ROOT, bundleTestWorkflows, getTestTemporal, uniqueName } from '../../helpers/temporal';
import { outputIds, WORKFLOWS } from './project-worker';
import type { TestTemporal } from '../../helpers/temporal';
import { copyFixture, floe } from '../../unit/cli/harness';
import type { FloeResult } from '../../unit/cli/harness';

const BLOCK = 'tap-numbers target-out';
const STATE_ID = 'dev:tap-numbers-to-target-out';

interface RunRow {
  workflowId: string;
  status: string;
  schedule?: string;
  job?: string;
  trigger?: string;
  records?: number;
}

interface BlockView {
  block: string;
  status: string;
  stateId?: string;
  streams?: Record<string, { records: number; bytes: number }>;
  records?: number;
  attempts?: number;
  error?: string;
}

interface RunView {
  workflowId: string;
  status: string;
  blocks: BlockView[];
  progress?: { phase: string; currentBlock?: string; blockIndex?: number; blockCount?: number; blocks: BlockView[] };
  current?: { block: string; attempt: number; records: number; streams: Record<string, { records: number }> }[];
}

/**
 * `node bin/floe.js <args>` as a process of its own; resolves when it exits (a process that never exits, e.g. a
 * timer or connection left open after the run, fails the test by its timeout).
 */
function floeProcess(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<FloeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Polls `fn` until it returns a value other than undefined; fails with `what` after `ms`. */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function ok(r: FloeResult, args: string[]): FloeResult {
  assert.equal(r.code, 0, `floe ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describe('floe CLI against Temporal (schedule, trigger, runs)', function () {
  this.timeout(300_000);
  let t: TestTemporal;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let worker: Worker;
  let workerDone: Promise<void>;
  const sched = `numbers-hourly-${randomUUID().slice(0, 8)}`;
  const scheduleId = `floe-${sched}`;
  /** Every run this file started, oldest first, with what `floe runs` should say about it. */
  const started: RunRow[] = [];

  const run = (...args: string[]) => floe(args, root, env);
  const runOk = async (...args: string[]) => ok(await run(...args), args);
  const json = async <T>(...args: string[]) => JSON.parse((await runOk('--format', 'json', ...args)).stdout) as T;
  const editYml = (edit: (text: string) => string) => {
    const file = path.join(root, 'meltano.yml');
    fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  };

  const runIdOf = (text: string) => /^Run (\S+) /m.exec(text)?.[1] ?? assert.fail(`no run ID in: ${text}`);

  before(async () => {
    t = await getTestTemporal();
    // The orchestration fixture's scripts with this test's meltano.yml (no secret setting, its own project_id).
    root = copyFixture('orchestration');
    fs.copyFileSync(
      path.join(REPO_ROOT, 'test', 'fixtures', 'projects', 'orchestration-cli', 'meltano.yml'),
      path.join(root, 'meltano.yml'),
    );
    editYml((text) => text.replace('- name: numbers-hourly', `- name: ${sched}`));
    const taskQueue = uniqueName('tq-cli');
    env = {
      TEMPORAL_ADDRESS: t.address,
      TEMPORAL_NAMESPACE: t.namespace,
      FLOE_TASK_QUEUE: taskQueue,
      FLOE_PROJECT_KEY: uniqueName('proj-cli'),
    };
    worker = await Worker.create({
      connection: t.nativeConnection,
      namespace: t.namespace,
      taskQueue,
      workflowBundle: await bundleTestWorkflows(WORKFLOWS),
      activities: createActivities({ projectRoot: root, heartbeatIntervalMs: 200 }),
      shutdownGraceTime: '2s',
      shutdownForceTime: '10s',
    });
    workerDone = worker.run();
  });

  after(async () => {
    if (worker) {
      worker.shutdown();
      await workerDone;
    }
    await t?.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('syncs the schedule and describes, pauses and unpauses it; a sync keeps a pause unless meltano.yml forces it', async () => {
    assert.deepEqual(await runOk('schedule', 'sync'), {
      code: 0,
      stdout: 'Schedules synced: 1 created, 0 updated, 0 unchanged, 0 deleted.\n',
      stderr: '',
    });
    assert.deepEqual(await json('schedule', 'sync'), {
      created: [],
      updated: [],
      unchanged: [scheduleId],
      deleted: [],
    });

    const d = await json<Record<string, unknown>>('schedule', 'describe', sched);
    const nextRuns = d.nextRuns as string[];
    assert.equal(nextRuns.length, 5);
    const times = nextRuns.map((s) => new Date(s).getTime());
    assert.ok(times[0]! > Date.now() - 1000 && times[0]! <= Date.now() + 3_600_000, `first next run ${nextRuns[0]}`);
    for (const [i, s] of nextRuns.entries()) {
      assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
      if (i > 0) assert.equal(times[i]! - times[i - 1]!, 3_600_000);
    }
    assert.deepEqual(
      { ...d, nextRuns: undefined },
      {
        scheduleId,
        paused: false,
        nextRuns: undefined,
        recentRuns: [],
        running: [],
        overlap: 'SKIP',
        catchupWindowMs: 3_600_000,
        pauseOnFailure: false,
      },
    );

    assert.deepEqual(await runOk('schedule', 'pause', sched, '--note', 'x'), {
      code: 0,
      stdout: `Schedule '${sched}' paused.\n`,
      stderr: '',
    });
    const paused = await json<{ paused: boolean; note?: string }>('schedule', 'describe', sched);
    assert.deepEqual([paused.paused, paused.note], [true, 'x']);

    // A changed schedule is updated, and the pause made on the server survives the update.
    editYml((text) => text.replace("interval: '@hourly'", "interval: '0 */2 * * *'"));
    assert.deepEqual(await json('schedule', 'sync'), {
      created: [],
      updated: [scheduleId],
      unchanged: [],
      deleted: [],
    });
    const afterSync = await json<{ paused: boolean; note?: string; nextRuns: string[] }>('schedule', 'describe', sched);
    assert.deepEqual([afterSync.paused, afterSync.note], [true, 'x']);
    assert.equal(new Date(afterSync.nextRuns[0]!).getUTCHours() % 2, 0);

    assert.deepEqual(await runOk('schedule', 'unpause', sched), {
      code: 0,
      stdout: `Schedule '${sched}' unpaused.\n`,
      stderr: '',
    });
    const unpaused = await json<{ paused: boolean; note?: string }>('schedule', 'describe', sched);
    assert.deepEqual([unpaused.paused, unpaused.note], [false, 'Unpaused with floe']);

    // `paused: true` in meltano.yml wins over the server's state at the next sync.
    editYml((text) =>
      text.replace(
        `  job: numbers\n  interval: '0 */2 * * *'`,
        `  job: numbers\n  interval: '@hourly'\n  annotations:\n    floe:\n      paused: true\n      note: no source yet`,
      ),
    );
    assert.deepEqual(await json('schedule', 'sync'), {
      created: [],
      updated: [scheduleId],
      unchanged: [],
      deleted: [],
    });
    const forced = await json<{ paused: boolean; note?: string }>('schedule', 'describe', sched);
    assert.deepEqual([forced.paused, forced.note], [true, 'no source yet']);

    // Back to the fixture's schedule for the tests below.
    editYml((text) => text.replace(`\n  annotations:\n    floe:\n      paused: true\n      note: no source yet`, ''));
    assert.deepEqual(await json('schedule', 'sync'), {
      created: [],
      updated: [scheduleId],
      unchanged: [],
      deleted: [],
    });
    const restored = await json<{ paused: boolean }>('schedule', 'describe', sched);
    assert.equal(restored.paused, true, 'a pause (here the forced one) survives an update that does not force it');
    // Left paused: an unpaused @hourly schedule would fire at the top of the hour in the middle of the tests
    // below and change their run counts (a manual trigger of a paused schedule still runs).
  });

  it('triggers a job with --wait: per-block summary with the record count, exit 0', async () => {
    const r = await runOk('trigger', 'numbers', '--wait');
    const id = runIdOf(r.stdout);
    assert.match(id, /^meltano_job_numbers-manual-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.equal(lines[0], `succeeded ${BLOCK}  5 records (numbers=5)`);
    assert.match(lines[1]!, new RegExp(`^Run ${id} succeeded in \\d+\\.\\d s\\.$`));
    assert.deepEqual(outputIds(root), [1, 2, 3, 4, 5]);
    started.push({ workflowId: id, status: 'COMPLETED', job: 'numbers', trigger: 'manual', records: 5 });
  });

  it('triggers a schedule with --wait --format json: the run result; saved state means no records move', async () => {
    const r = await json<Record<string, unknown>>('trigger', sched, '--wait');
    const id = r.workflowId as string;
    assert.match(id, new RegExp(`^meltano_${sched}_numbers-manual-\\d{4}-`));
    assert.equal(typeof r.durationMs, 'number');
    const blocks = r.blocks as BlockView[];
    assert.deepEqual(
      { ...r, durationMs: 0, blocks: blocks.map((b) => ({ ...b, durationMs: 0 })) },
      {
        workflowId: id,
        status: 'succeeded',
        durationMs: 0,
        blocks: [
          {
            block: BLOCK,
            kind: 'extract-load',
            status: 'succeeded',
            stateId: STATE_ID,
            streams: { numbers: { records: 0, bytes: 0 } },
            records: 0,
            statesPersisted: 1,
            durationMs: 0,
            attempts: 1,
          },
        ],
      },
    );
    assert.deepEqual(outputIds(root), [1, 2, 3, 4, 5]);
    started.push({
      workflowId: id,
      status: 'COMPLETED',
      schedule: sched,
      job: 'numbers',
      trigger: 'manual',
      records: 0,
    });
  });

  it('--full-refresh ignores the saved state and moves every record again', async () => {
    const r = await runOk('trigger', 'numbers', '--wait', '--full-refresh');
    assert.equal(r.stdout.split('\n')[0], `succeeded ${BLOCK}  5 records (numbers=5)`);
    assert.deepEqual(outputIds(root), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    started.push({ workflowId: runIdOf(r.stdout), status: 'COMPLETED', job: 'numbers', trigger: 'manual', records: 5 });
  });

  it('--env K=V reaches the plugins', async () => {
    const value = `echo-${randomUUID()}`;
    const r = await runOk('trigger', 'numbers', '--wait', '--env', `TAP_ECHO=${value}`);
    assert.equal(fs.readFileSync(path.join(root, 'echo.log'), 'utf8'), `${value}\n`);
    started.push({ workflowId: runIdOf(r.stdout), status: 'COMPLETED', job: 'numbers', trigger: 'manual', records: 0 });
  });

  it('--disable-retry: one block attempt, exit 1 with the failure on stderr; runs show has the error', async () => {
    editYml((text) =>
      text.replace('    select:\n    - numbers.*\n', '    select:\n    - numbers.*\n    config:\n      fail: true\n'),
    );
    try {
      const r = await run('trigger', 'numbers', '--wait', '--disable-retry');
      assert.equal(r.code, 1, r.stderr);
      const id = runIdOf(r.stderr);
      const error =
        "Extractor failed: 'tap-numbers' exited with code 3; the loader was let finish and the state it emitted " +
        'was kept, see the extractor\'s log lines for the cause. (exit codes: {"tap-numbers":3,"target-out":0})';
      assert.equal(r.stdout, '');
      // Progress lines (`running ...`) may come first, depending on how fast the run fails.
      assert.equal(r.stderr.trimEnd().split('\n').at(-1), `Run ${id} failed: Block '${BLOCK}' failed: ${error}`);
      const history = await t.client.workflow.getHandle(id).fetchHistory();
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      assert.deepEqual(attempts, [1, 1], 'planPipeline once, then exactly one attempt of the block');

      const shown = await json<RunView>('runs', 'show', id);
      assert.equal(shown.status, 'FAILED');
      assert.equal(shown.blocks.length, 1);
      const b = shown.blocks[0]!;
      assert.deepEqual(b, {
        block: BLOCK,
        kind: 'extract-load',
        status: 'failed',
        stateId: STATE_ID,
        attempts: 1,
        error,
      });
      started.push({ workflowId: id, status: 'FAILED', job: 'numbers', trigger: 'manual', records: 0 });
    } finally {
      editYml((text) => text.replace('    config:\n      fail: true\n', ''));
    }
  });

  it('refuses to trigger a schedule whose run is still going (overlap skip); runs show reports live progress', async () => {
    const release = path.join(root, 'release');
    const r = await runOk('trigger', sched, '--full-refresh', '--env', 'TAP_HOLD=1');
    const id = /^Started (\S+)\. /.exec(r.stdout)?.[1] ?? assert.fail(r.stdout);
    assert.equal(r.stdout, `Started ${id}. Follow it with 'floe runs show ${id}' or in the Web UI.\n`);
    try {
      // The tap holds after its first record; wait until the heartbeat says so.
      const live = await eventually('the held run to report one record', async () => {
        const v = await json<RunView>('runs', 'show', id);
        return v.current?.[0]?.records === 1 ? v : undefined;
      });
      assert.equal(live.status, 'RUNNING');
      assert.deepEqual(live.blocks, []);
      assert.deepEqual(live.progress, {
        phase: 'running',
        currentBlock: BLOCK,
        blockIndex: 0,
        blockCount: 1,
        blocks: [],
      });
      assert.deepEqual(
        (live.current ?? []).map((c) => ({ ...c, lastHeartbeatAt: undefined })),
        [
          {
            block: BLOCK,
            attempt: 1,
            records: 1,
            streams: { numbers: live.current?.[0]?.streams.numbers },
            lastHeartbeatAt: undefined,
          },
        ],
      );
      assert.equal(live.current?.[0]?.streams.numbers?.records, 1);

      // Visibility is eventually consistent: the refusal needs the run to be listed as running.
      await eventually('the run to be listed as running', async () => {
        const v = await json<{ runs: RunRow[] }>('runs', '--status', 'running', '--schedule', sched);
        return v.runs.some((x) => x.workflowId === id) ? true : undefined;
      });
      const refused = await run('trigger', sched, '--wait');
      assert.deepEqual(refused, {
        code: 2,
        stdout: '',
        stderr: `Schedule '${sched}' already has a run in progress (${id}) and its overlap policy is skip; wait for it or cancel it.\n`,
      });
    } finally {
      fs.writeFileSync(release, '');
    }
    await t.client.workflow.getHandle(id).result();
    started.push({
      workflowId: id,
      status: 'COMPLETED',
      schedule: sched,
      job: 'numbers',
      trigger: 'manual',
      records: 5,
    });
  });

  it('rejects an unknown name with exit 2', async () => {
    assert.deepEqual(await run('trigger', 'nope'), {
      code: 2,
      stdout: '',
      stderr: `'nope' is neither a schedule nor a job in meltano.yml (schedules: ${sched}; jobs: numbers).\n`,
    });
  });

  it('lists the runs newest first and filters them by schedule, job, status and limit; shows a run', async () => {
    // One run started by the schedule itself (Temporal's trigger), so the list has both kinds of trigger.
    await t.client.schedule.getHandle(scheduleId).trigger();
    const scheduledId = await eventually('the schedule to start its run', async () => {
      const d = await json<{ recentRuns: { workflowId: string }[] }>('schedule', 'describe', sched);
      return d.recentRuns[0]?.workflowId;
    });
    assert.match(scheduledId, new RegExp(`^meltano_${sched}_numbers-\\d{4}-\\d\\d-\\d\\dT`));
    await t.client.workflow.getHandle(scheduledId).result();
    started.push({
      workflowId: scheduledId,
      status: 'COMPLETED',
      schedule: sched,
      job: 'numbers',
      trigger: 'schedule',
      records: 0,
    });
    assert.equal(started.length, 7, 'the tests above each recorded their run');

    const pick = (r: RunRow): RunRow => ({
      workflowId: r.workflowId,
      status: r.status,
      ...(r.schedule ? { schedule: r.schedule } : {}),
      job: r.job,
      trigger: r.trigger,
      records: r.records,
    });
    const newestFirst = [...started].reverse();
    const list = async (...filters: string[]) => {
      const v = await json<{ runs: RunRow[] }>('runs', ...filters);
      return v.runs.map(pick);
    };
    // Visibility is eventually consistent: poll until the list settles on what the runs did.
    const listed = (filters: string[], want: RunRow[]) =>
      eventually(`floe runs ${filters.join(' ')}`, async () => {
        const got = await list(...filters);
        return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
      }).catch(async (err: Error) => {
        assert.deepEqual(await list(...filters), want, err.message);
      });
    await listed([], newestFirst);
    await listed(
      ['--schedule', sched],
      newestFirst.filter((r) => r.schedule === sched),
    );
    await listed(['--job', 'numbers'], newestFirst);
    await listed(
      ['--status', 'failed'],
      newestFirst.filter((r) => r.status === 'FAILED'),
    );
    await listed(
      ['--status', 'completed', '--limit', '2'],
      newestFirst.filter((r) => r.status === 'COMPLETED').slice(0, 2),
    );
    assert.deepEqual(await run('runs', '--job', 'nope'), { code: 0, stdout: 'No runs found.\n', stderr: '' });

    const text = (await runOk('runs', '--limit', '1')).stdout;
    assert.match(text, new RegExp(`^COMPLETED  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  ${scheduledId}  0 records\\n$`));

    const first = started[0]!.workflowId;
    const shown = await json<RunView>('runs', 'show', first);
    assert.equal(shown.status, 'COMPLETED');
    assert.equal(shown.progress, undefined);
    assert.deepEqual(
      shown.blocks.map((b) => ({ ...b, durationMs: undefined })),
      [
        {
          block: BLOCK,
          kind: 'extract-load',
          status: 'succeeded',
          stateId: STATE_ID,
          streams: { numbers: { records: 5, bytes: shown.blocks[0]?.streams?.numbers?.bytes } },
          records: 5,
          statesPersisted: 1,
          attempts: 1,
          durationMs: undefined,
        },
      ],
    );
    assert.ok((shown.blocks[0]?.streams?.numbers?.bytes ?? 0) > 0);
    const shownText = (await runOk('runs', 'show', first)).stdout.split('\n');
    assert.match(shownText[0]!, new RegExp(`^${first}  COMPLETED  started \\S+, closed \\S+$`));
    assert.deepEqual(shownText.slice(1, 3), [
      `  succeeded ${BLOCK}  attempts=1 records=5 state=${STATE_ID}`,
      `      numbers: 5 records, ${shown.blocks[0]?.streams?.numbers?.bytes} bytes`,
    ]);
  });

  it('runs as a real process: trigger --wait exits by itself with the run result', async () => {
    const r = await floeProcess(['trigger', 'numbers', '--wait', '--full-refresh'], root, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], `succeeded ${BLOCK}  5 records (numbers=5)`);
    assert.match(r.stdout, /^Run meltano_job_numbers-manual-\S+ succeeded in \d+\.\d s\.\n$/m);
    const unknown = await floeProcess(['trigger', 'nope'], root, env);
    assert.deepEqual(unknown, {
      code: 2,
      stdout: '',
      stderr: `'nope' is neither a schedule nor a job in meltano.yml (schedules: ${sched}; jobs: numbers).\n`,
    });
  });
});
