import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { loadProject } from '../../../src/config/load';
import { syncSchedules } from '../../../src/schedules/sync';
import type { PipelineInput, PipelineResult } from '../../../src/shared/pipeline';
import { PIPELINE_WORKFLOW_TYPE } from '../../../src/shared/pipeline';
import { LocalStateStore } from '../../../src/state/local-store';
import { REPO_ROOT, getTestTemporal, uniqueName } from '../../helpers/temporal';
import { outputIds, withProjectWorker } from './project-worker';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'projects', 'orchestration');
const SECRET = 's3cr3t-never-in-temporal';

function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-orch-'));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Rewrites the copied project's meltano.yml with `edit`. */
function editYml(root: string, edit: (text: string) => string): void {
  const yml = path.join(root, 'meltano.yml');
  fs.writeFileSync(yml, edit(fs.readFileSync(yml, 'utf8')));
}

/** Makes the fixture tap exit 3 (its `fail` setting). */
const failingTap = (text: string) =>
  text.replace('      password: $TAP_NUMBERS_SECRET', '      password: $TAP_NUMBERS_SECRET\n      fail: true');

describe('pipeline workflow on a real Temporal dev server', function () {
  this.timeout(180_000);
  let root: string;
  const savedSecret = process.env.TAP_NUMBERS_SECRET;

  before(() => {
    // The plugin's password comes from the worker's environment, as a secret should.
    process.env.TAP_NUMBERS_SECRET = SECRET;
  });
  after(() => {
    if (savedSecret === undefined) delete process.env.TAP_NUMBERS_SECRET;
    else process.env.TAP_NUMBERS_SECRET = savedSecret;
  });
  beforeEach(() => {
    root = copyProject();
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('runs a job, persists state, and moves only new records on the next run', async () => {
    const t = await getTestTemporal();
    const taskQueue = uniqueName('tq');
    const input: PipelineInput = { job: 'numbers', trigger: 'manual', environment: 'dev' };
    const run = (id: string) =>
      t.client.workflow.execute(PIPELINE_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: id,
        args: [input],
      }) as Promise<PipelineResult>;
    await withProjectWorker(taskQueue, { projectRoot: root, heartbeatIntervalMs: 500 }, async () => {
      const firstId = uniqueName('meltano_numbers');
      const first = await run(firstId);
      assert.equal(first.status, 'succeeded');
      assert.equal(first.blocks.length, 1);
      assert.equal(first.blocks[0]?.records, 5);
      assert.deepEqual(first.blocks[0]?.streams?.numbers?.records, 5);
      assert.equal(first.blocks[0]?.stateId, 'dev:tap-numbers-to-target-out');
      assert.deepEqual(outputIds(root), [1, 2, 3, 4, 5]);
      const store = new LocalStateStore({ root: path.join(root, '.meltano', 'state') });
      const record = await store.get('dev:tap-numbers-to-target-out');
      assert.deepEqual(record?.completed, { singer_state: { bookmarks: { numbers: { id: 5 } } } });

      fs.appendFileSync(path.join(root, 'data.jsonl'), '{"id": 6, "name": "n6"}\n{"id": 7, "name": "n7"}\n');
      const second = await run(uniqueName('meltano_numbers'));
      assert.equal(second.blocks[0]?.records, 2);
      assert.deepEqual(outputIds(root), [1, 2, 3, 4, 5, 6, 7]);

      // No secret in the history, memo or search attributes of a run whose plugin has one.
      const history = await t.client.workflow.getHandle(firstId).fetchHistory();
      const described = await t.client.workflow.getHandle(firstId).describe();
      // Payload data are bytes: decode them so the search sees what the server stores.
      const decode = (k: string, v: unknown) =>
        v instanceof Uint8Array
          ? Buffer.from(v).toString('utf8')
          : k === 'data' && typeof v === 'string'
            ? Buffer.from(v, 'base64').toString('utf8')
            : v;
      const everything = JSON.stringify(history, decode) + JSON.stringify(described.raw, decode);
      assert.ok(everything.includes('dev:tap-numbers-to-target-out'), 'history should be what we think it is');
      assert.ok(!everything.includes(SECRET), 'the secret setting value leaked into Temporal');
      // The block activity carries a summary the Web UI shows.
      assert.ok(everything.includes('tap-numbers target-out (state ID dev:tap-numbers-to-target-out)'));
    });
  });

  it('fails a block after the retry policy is exhausted, with a clear summary', async () => {
    const t = await getTestTemporal();
    const taskQueue = uniqueName('tq');
    editYml(root, (text) =>
      failingTap(text).replace(
        '  - tap-numbers target-out\n',
        '  - tap-numbers target-out\n  annotations:\n    floe:\n      retry:\n        maximum_attempts: 2\n        initial_interval: 100ms\n',
      ),
    );
    const input: PipelineInput = { job: 'numbers', trigger: 'manual' };
    await withProjectWorker(taskQueue, { projectRoot: root }, async () => {
      const id = uniqueName('meltano_numbers_fail');
      await assert.rejects(
        t.client.workflow.execute(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId: id, args: [input] }),
        (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError);
          assert.match(String(err.cause?.message), /^Block 'tap-numbers target-out' failed: Extractor failed/);
          return true;
        },
      );
      const history = await t.client.workflow.getHandle(id).fetchHistory();
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      // planPipeline once, then the block twice (maximum_attempts: 2).
      assert.deepEqual(attempts, [1, 2]);
      const memo = (await t.client.workflow.getHandle(id).describe()).memo as { summary?: PipelineResult };
      assert.equal(memo.summary?.status, 'failed');
      assert.equal(memo.summary?.blocks[0]?.status, 'failed');
    });
  });

  it('single attempt with disableRetry', async () => {
    const t = await getTestTemporal();
    const taskQueue = uniqueName('tq');
    editYml(root, failingTap);
    await withProjectWorker(taskQueue, { projectRoot: root }, async () => {
      const id = uniqueName('meltano_numbers_once');
      const input: PipelineInput = { job: 'numbers', trigger: 'manual', disableRetry: true };
      await assert.rejects(
        t.client.workflow.execute(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId: id, args: [input] }),
      );
      const history = await t.client.workflow.getHandle(id).fetchHistory();
      const starts = history.events?.filter((e) => e.activityTaskStartedEventAttributes).length;
      assert.equal(starts, 2, 'planPipeline + exactly one block attempt');
    });
  });

  it('syncs schedules: create, no-op, update, delete, and leaves foreign schedules alone', async () => {
    const t = await getTestTemporal();
    const taskQueue = uniqueName('tq');
    const projectKey = uniqueName('proj');
    const idPrefix = `${uniqueName('t')}-`;
    const opts = { taskQueue, projectKey, idPrefix };
    const foreignId = uniqueName('foreign');
    await t.client.schedule.create({
      scheduleId: foreignId,
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: 'x', taskQueue },
      state: { paused: true },
    });
    const project = loadProject(root);
    assert.deepEqual(await syncSchedules(t.client, project, opts), {
      created: [`${idPrefix}numbers-hourly`],
      updated: [],
      unchanged: [],
      deleted: [],
    });
    assert.deepEqual((await syncSchedules(t.client, project, opts)).unchanged, [`${idPrefix}numbers-hourly`]);
    const desc = await t.client.schedule.getHandle(`${idPrefix}numbers-hourly`).describe();
    assert.equal(desc.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(desc.action.workflowId, 'meltano_numbers-hourly_numbers');

    editYml(root, (text) => text.replace("interval: '@hourly'", "interval: '30 2 * * *'"));
    const changed = loadProject(root);
    assert.deepEqual((await syncSchedules(t.client, changed, opts)).updated, [`${idPrefix}numbers-hourly`]);
    const next = (await t.client.schedule.getHandle(`${idPrefix}numbers-hourly`).describe()).info.nextActionTimes[0];
    assert.equal(next?.getUTCHours(), 2);
    assert.equal(next?.getUTCMinutes(), 30);

    editYml(root, (text) => text.replace(/schedules:[\s\S]*$/, 'schedules: []\n'));
    assert.deepEqual((await syncSchedules(t.client, loadProject(root), opts)).deleted, [`${idPrefix}numbers-hourly`]);
    // Another project wanting the same schedule ID is told, and leaves this project's schedule alone.
    editYml(root, (text) =>
      text.replace('schedules: []\n', "schedules:\n- name: numbers-hourly\n  job: numbers\n  interval: '@daily'\n"),
    );
    await syncSchedules(t.client, loadProject(root), opts);
    const other = await syncSchedules(t.client, loadProject(root), { ...opts, projectKey: uniqueName('other') });
    assert.deepEqual(other.conflicts, [
      {
        scheduleId: `${idPrefix}numbers-hourly`,
        message: `Schedule ID '${idPrefix}numbers-hourly' already exists on the server and belongs to floe project '${projectKey}', so floe left it alone; rename the schedule in meltano.yml, or give this project its own project_id (or FLOE_PROJECT_KEY) only if it is the same project.`,
      },
    ]);
    assert.deepEqual([other.created, other.updated, other.unchanged, other.deleted], [[], [], [], []]);
    await t.client.schedule.getHandle(`${idPrefix}numbers-hourly`).delete();
    // The foreign schedule is still there.
    await t.client.schedule.getHandle(foreignId).describe();
    await t.client.schedule.getHandle(foreignId).delete();
  });
});
