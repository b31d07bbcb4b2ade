/**
 * Fault tests of the orchestration with real processes: a `floe worker` child process per worker, the shared
 * Temporal dev server, and the slow fixture project (test/fixtures/projects/orchestration-slow), whose tap emits
 * ids 1..count slowly with a STATE bookmark every `state_every` records and whose target echoes a STATE only after
 * flushing the records before it, tagging every loaded record with its own pid.
 *
 * The delivery guarantee these tests pin (at-least-once from the last committed state): with R the bookmark the
 * retried tap was started from (`--state`), every id <= R is loaded exactly once, every id in 1..count is loaded,
 * and an id > R is loaded at most twice (once by the interrupted attempt, once by the retry).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { PipelineInput, PipelineResult } from '../../../src/shared/pipeline';
import { PIPELINE_WORKFLOW_TYPE } from '../../../src/shared/pipeline';
import { LocalStateStore } from '../../../src/state/local-store';
import { REPO_ROOT, getTestTemporal, uniqueName } from '../../helpers/temporal';
import { isAlive, startWorkerProcess } from '../../helpers/worker-process';
import type { WorkerProcess } from '../../helpers/worker-process';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'projects', 'orchestration-slow');
const STATE_ID = 'dev:tap-slow-to-target-keyed';
const INPUT: PipelineInput = { job: 'slow', trigger: 'manual', environment: 'dev' };
/** Set FLOE_FAULTS_MEASURE=1 to print the measured recovery times (never asserted: the machine is shared). */
const measure = (what: string, ms: number) => {
  if (process.env.FLOE_FAULTS_MEASURE) console.log(`      [measure] ${what}: ${(ms / 1000).toFixed(1)} s`);
};

interface PluginStart {
  role: 'tap' | 'target';
  pid: number;
  /** The tap's `--state` bookmark (0 without state). */
  start?: number;
}

function copyProject(tap: { count: number; batchSleep: number }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-faults-'));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const yml = path.join(dir, 'meltano.yml');
  const text = fs
    .readFileSync(yml, 'utf8')
    .replace('count: 600', `count: ${tap.count}`)
    .replace('batch_sleep: 0.5', `batch_sleep: ${tap.batchSleep}`);
  fs.writeFileSync(yml, text);
  return dir;
}

function pluginStarts(root: string): PluginStart[] {
  const file = path.join(root, 'pids.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PluginStart);
}

function loadedRecords(root: string): { id: number; _pid: number }[] {
  const file = path.join(root, 'output', 'numbers.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { id: number; _pid: number }];
      } catch {
        // An empty line, or one torn by a target killed mid-write: not a loaded record.
        return [];
      }
    });
}

/** The bookmark of the last committed state, read the way the next run reads it. */
async function committedBookmark(root: string): Promise<number | undefined> {
  const store = new LocalStateStore({ root: path.join(root, '.meltano', 'state') });
  const record = await store.get(STATE_ID);
  const singer = record?.completed.singer_state as { bookmarks?: { numbers?: { id?: number } } } | undefined;
  return singer?.bookmarks?.numbers?.id;
}

async function waitFor<T>(what: string, deadlineMs: number, probe: () => T | undefined | Promise<T | undefined>) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${deadlineMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Asserts the at-least-once contract (see the file comment) and that the retry's target loaded exactly the ids
 * after R. Returns R.
 */
function assertLoadedOnceUpToBookmark(root: string, count: number): number {
  const taps = pluginStarts(root).filter((p) => p.role === 'tap');
  assert.ok(taps.length >= 2, `expected a retried tap, got ${JSON.stringify(taps)}`);
  const resumedFrom = taps[taps.length - 1]?.start as number;
  const records = loadedRecords(root);
  const times = new Map<number, number>();
  for (const r of records) times.set(r.id, (times.get(r.id) ?? 0) + 1);
  const all = Array.from({ length: count }, (_, i) => i + 1);
  assert.deepEqual(
    [...times.keys()].sort((a, b) => a - b),
    all,
    'every source id is loaded',
  );
  assert.deepEqual(
    all.filter((id) => id <= resumedFrom && times.get(id) !== 1),
    [],
    `ids up to the committed bookmark ${resumedFrom} are loaded exactly once`,
  );
  assert.deepEqual(
    all.filter((id) => (times.get(id) ?? 0) > 2),
    [],
    'ids after the bookmark are loaded at most twice',
  );
  const lastTarget = pluginStarts(root)
    .filter((p) => p.role === 'target')
    .at(-1)?.pid;
  const byRetry = records.filter((r) => r._pid === lastTarget).map((r) => r.id);
  assert.deepEqual(byRetry, all.slice(resumedFrom), 'the retry loads exactly the ids after the bookmark');
  return resumedFrom;
}

describe('orchestration faults (worker processes on a real Temporal dev server)', function () {
  this.timeout(300_000);
  const cleanups: Array<() => Promise<void> | void> = [];
  let root: string;

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    // Whatever a failed test left running: no plugin outlives its test.
    for (const p of pluginStarts(root)) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function worker(taskQueue: string): Promise<WorkerProcess> {
    const t = await getTestTemporal();
    const w = await startWorkerProcess({ projectRoot: root, address: t.address, namespace: t.namespace, taskQueue });
    cleanups.push(() => w.dispose());
    return w;
  }

  async function start(taskQueue: string, input: PipelineInput = INPUT): Promise<WorkflowHandle> {
    const t = await getTestTemporal();
    return t.client.workflow.start(PIPELINE_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: uniqueName('meltano_slow'),
      args: [input],
    });
  }

  /** Resolves once a plugin pair runs and at least one state is committed; returns the committed bookmark. */
  async function runningWithCommittedState(w: WorkerProcess): Promise<number> {
    return waitFor(`a committed state (worker output:\n${w.output()})`, 60_000, () => committedBookmark(root));
  }

  it('cancel stops the plugin processes and keeps the state persisted before the cancel', async () => {
    root = copyProject({ count: 3000, batchSleep: 0.2 });
    const taskQueue = uniqueName('tq');
    const w = await worker(taskQueue);
    const handle = await start(taskQueue);
    const before = await runningWithCommittedState(w);
    const plugins = pluginStarts(root);
    assert.deepEqual(plugins.map((p) => p.role).sort(), ['tap', 'target']);
    assert.ok(
      plugins.every((p) => isAlive(p.pid)),
      'both plugins run before the cancel',
    );

    const cancelledAt = Date.now();
    await handle.cancel();
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err.cause)}`);
      return true;
    });
    measure('cancel -> run CANCELLED', Date.now() - cancelledAt);
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    // The run waits for the block to confirm the cancellation, so by now its plugins are gone and its lease is
    // released: a next run of the state ID is not refused.
    assert.deepEqual(
      plugins.filter((p) => isAlive(p.pid)),
      [],
      `plugins outlived the cancelled run (worker output:\n${w.output()})`,
    );
    const store = new LocalStateStore({ root: path.join(root, '.meltano', 'state') });
    assert.equal(await store.describeRunLease(STATE_ID), undefined);
    const after = await committedBookmark(root);
    assert.ok(after !== undefined && after >= before, `state went back from ${before} to ${after}`);
    assert.equal(pluginStarts(root).length, 2, 'no plugin started after the cancel');
  });

  it('a SIGKILLed worker: its plugins die without committing state, another worker resumes from the bookmark', async () => {
    const count = 600;
    root = copyProject({ count, batchSleep: 0.25 });
    const taskQueue = uniqueName('tq');
    const a = await worker(taskQueue);
    const handle = await start(taskQueue);
    await runningWithCommittedState(a);
    const orphans = pluginStarts(root);
    a.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    // Nothing can commit state once the worker is dead: the worker process persists what the target echoes.
    const atKill = await committedBookmark(root);

    // The plugins run in process groups of their own, so SIGKILL of the worker does not reach them; they end on
    // their own: the tap on EPIPE at its next write, the target on stdin EOF (after writing what it had read).
    await waitFor('the orphaned plugins of the killed worker to exit', 60_000, () =>
      orphans.every((p) => !isAlive(p.pid)),
    );
    measure('SIGKILL of worker A -> its orphaned plugins exited', Date.now() - killedAt);
    assert.equal(await committedBookmark(root), atKill, 'an orphaned plugin changed the committed state');
    // The dead attempt's lease stays until its ttl; the retry (same workflow, run and activity IDs) takes it over.
    const store = new LocalStateStore({ root: path.join(root, '.meltano', 'state') });
    const lease = await store.describeRunLease(STATE_ID);
    assert.match(lease?.owner ?? '', new RegExp(`^${handle.workflowId}/`));

    const b = await worker(taskQueue);
    const result = await Promise.race([
      handle.result() as Promise<PipelineResult>,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no result within 3 minutes; worker B said:\n${b.output()}`)), 180_000),
      ),
    ]);
    measure('SIGKILL of worker A -> run completed on worker B', Date.now() - killedAt);
    assert.equal(result.status, 'succeeded');
    assert.ok((result.blocks[0]?.attempts ?? 0) >= 2, `attempts: ${result.blocks[0]?.attempts}`);
    const resumedFrom = assertLoadedOnceUpToBookmark(root, count);
    assert.equal(resumedFrom, atKill, 'the retry starts from the last state committed before the kill');
    const orphanTarget = orphans.find((p) => p.role === 'target')?.pid;
    const duplicates = loadedRecords(root).filter((r) => r._pid === orphanTarget && r.id > resumedFrom).length;
    if (process.env.FLOE_FAULTS_MEASURE)
      console.log(`      [measure] rows after the bookmark loaded twice: ${duplicates}`);
    assert.equal(await committedBookmark(root), count);
  });

  it('a SIGTERMed worker stops its plugins after the shutdown grace and another worker finishes the run', async () => {
    const count = 2000;
    // Long enough to outlast the worker's 30 s shutdown grace, so the interrupted attempt really fails over.
    root = copyProject({ count, batchSleep: 0.25 });
    const taskQueue = uniqueName('tq');
    const a = await worker(taskQueue);
    const handle = await start(taskQueue);
    await runningWithCommittedState(a);
    const first = pluginStarts(root);
    a.kill('SIGTERM');
    const terminatedAt = Date.now();
    const b = await worker(taskQueue);
    const exit = await a.exited;
    assert.equal(exit.code, 0, `worker A did not shut down cleanly:\n${a.output()}`);
    assert.ok(
      first.every((p) => !isAlive(p.pid)),
      'worker A left plugin processes behind',
    );
    const result = await Promise.race([
      handle.result() as Promise<PipelineResult>,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no result within 3 minutes; worker B said:\n${b.output()}`)), 180_000),
      ),
    ]);
    measure('SIGTERM of worker A -> run completed on worker B', Date.now() - terminatedAt);
    assert.equal(result.status, 'succeeded');
    const history = await handle.fetchHistory();
    const retried = history.events?.find((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 0) >= 2);
    // The SDK reports an activity cancelled by the worker's shutdown as a retryable failure, not a cancellation.
    const lastFailure = retried?.activityTaskStartedEventAttributes?.lastFailure;
    assert.equal(lastFailure?.applicationFailureInfo?.type, 'WorkerShutdown');
    assert.equal(lastFailure?.message, 'Worker is shutting down and this activity did not complete in time');
    assertLoadedOnceUpToBookmark(root, count);
    assert.equal(await committedBookmark(root), count);
  });

  it('a run whose state ID lease is taken with --force stops its plugins and persists no further state', async () => {
    root = copyProject({ count: 3000, batchSleep: 0.2 });
    const taskQueue = uniqueName('tq');
    const w = await worker(taskQueue);
    const handle = await start(taskQueue, { ...INPUT, disableRetry: true });
    await runningWithCommittedState(w);
    const plugins = pluginStarts(root);
    // What `floe run --force` does: take the live lease of the state ID from the running workflow.
    const store = new LocalStateStore({ root: path.join(root, '.meltano', 'state') });
    const intruder = await store.acquireRunLease(STATE_ID, { owner: 'intruder', ttlMs: 600_000, force: true });
    cleanups.push(() => intruder.release());

    // The run notices at its next lease renewal (every 15 s) and stops.
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        String(err.cause?.message),
        new RegExp(
          `^Block 'tap-slow target-keyed' failed: The run lease of '${STATE_ID}' held by '${handle.workflowId}/[^']+' ` +
            `was lost \\('intruder' holds it since [^)]+\\): it was not renewed within its ttl or was taken with --force; stop this run\\.$`,
        ),
      );
      return true;
    });
    assert.deepEqual(
      plugins.filter((p) => isAlive(p.pid)),
      [],
      'the plugins of the run that lost its lease still run',
    );
    const stopped = await committedBookmark(root);
    // Give any straggling writer time to show itself: the state must not move once the run has failed.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(await committedBookmark(root), stopped);
    assert.ok((stopped ?? 0) < 3000, 'the run went on to the end despite losing its lease');
    assert.equal(
      (await store.describeRunLease(STATE_ID))?.owner,
      'intruder',
      'the stopped run released a lease it no longer held',
    );
  });
});
