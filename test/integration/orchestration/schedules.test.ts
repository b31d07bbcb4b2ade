import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { loadProject } from '../../../src/config/load';
import { syncSchedules } from '../../../src/schedules/sync';
import { REPO_ROOT, getTestTemporal, uniqueName } from '../../helpers/temporal';
import { withProjectWorker } from './project-worker';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'projects', 'orchestration');

function projectWithInterval(interval: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sched-'));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const yml = path.join(dir, 'meltano.yml');
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace("interval: '@hourly'", `interval: '${interval}'`));
  return dir;
}

/** Completed runs a schedule started, polled until `count` are there (visibility is eventually consistent). */
async function waitForCompletedRuns(client: Client, scheduleId: string, count: number, deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ids: string[] = [];
    for await (const w of client.workflow.list({
      query: `TemporalScheduledById = '${scheduleId}' AND ExecutionStatus = 'Completed'`,
    })) {
      ids.push(w.workflowId);
    }
    if (ids.length >= count) return ids.sort();
    if (Date.now() > deadline) {
      throw new Error(`only ${ids.length} of ${count} runs of ${scheduleId} completed before the deadline`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('schedules on a real Temporal dev server', function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('fires on its own every minute and runs the real pipeline with its data interval', async () => {
    const t = await getTestTemporal();
    const root = projectWithInterval('* * * * *');
    dirs.push(root);
    const taskQueue = uniqueName('tq');
    const opts = { taskQueue, projectKey: uniqueName('proj'), idPrefix: `${uniqueName('s')}-` };
    await withProjectWorker(taskQueue, { projectRoot: root }, async () => {
      const result = await syncSchedules(t.client, loadProject(root), opts);
      const scheduleId = result.created[0] as string;
      try {
        const [workflowId] = await waitForCompletedRuns(t.client, scheduleId, 1, 150_000);
        // Workflow IDs read like Meltano's Airflow DAG IDs plus the nominal time.
        assert.match(workflowId as string, /^meltano_numbers-hourly_numbers-\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
        const ids = fs
          .readFileSync(path.join(root, 'output', 'numbers.jsonl'), 'utf8')
          .trim()
          .split('\n');
        assert.equal(ids.length, 5);
        const [start, end] = fs
          .readFileSync(path.join(root, 'intervals.log'), 'utf8')
          .trim()
          .split('\n')[0]!
          .split(' ');
        assert.equal(new Date(end!).getTime() - new Date(start!).getTime(), 60_000, 'a one-minute data interval');
      } finally {
        await t.client.schedule.getHandle(scheduleId).delete();
      }
    });
  });

  it('backfills one run per fire time, in order, each with its own data interval', async () => {
    const t = await getTestTemporal();
    const root = projectWithInterval('0 * * * *');
    dirs.push(root);
    const taskQueue = uniqueName('tq');
    const yml = path.join(root, 'meltano.yml');
    // Paused: only the backfill starts runs.
    fs.writeFileSync(
      yml,
      fs
        .readFileSync(yml, 'utf8')
        .replace("interval: '0 * * * *'", "interval: '0 * * * *'\n  annotations:\n    floe:\n      paused: true"),
    );
    const opts = { taskQueue, projectKey: uniqueName('proj'), idPrefix: `${uniqueName('b')}-` };
    await withProjectWorker(taskQueue, { projectRoot: root }, async () => {
      const scheduleId = (await syncSchedules(t.client, loadProject(root), opts)).created[0] as string;
      try {
        await t.client.schedule.getHandle(scheduleId).backfill({
          start: new Date('2026-01-01T00:30:00Z'),
          end: new Date('2026-01-01T03:30:00Z'),
          overlap: ScheduleOverlapPolicy.BUFFER_ALL,
        });
        const ids = await waitForCompletedRuns(t.client, scheduleId, 3, 150_000);
        assert.deepEqual(ids, [
          'meltano_numbers-hourly_numbers-2026-01-01T01:00:00Z',
          'meltano_numbers-hourly_numbers-2026-01-01T02:00:00Z',
          'meltano_numbers-hourly_numbers-2026-01-01T03:00:00Z',
        ]);
        const intervals = fs.readFileSync(path.join(root, 'intervals.log'), 'utf8').trim().split('\n');
        assert.deepEqual(intervals, [
          '2026-01-01T00:00:00.000Z 2026-01-01T01:00:00.000Z',
          '2026-01-01T01:00:00.000Z 2026-01-01T02:00:00.000Z',
          '2026-01-01T02:00:00.000Z 2026-01-01T03:00:00.000Z',
        ]);
      } finally {
        await t.client.schedule.getHandle(scheduleId).delete();
      }
    });
  });
});
