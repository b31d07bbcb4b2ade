/**
 * `floe schedule sync` with 200 schedules in one meltano.yml against the shared Temporal dev server: create all,
 * a no-op re-sync, updating exactly the changed ones, deleting exactly the removed ones, and leaving alone a
 * schedule floe does not manage and a floe schedule of another project key. Sync times are printed (a shared
 * machine: no timing assertions).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../../src/config/load';
import { syncSchedules } from '../../../src/schedules/sync';
import { getTestTemporal, uniqueName } from '../../helpers/temporal';
import type { TestTemporal } from '../../helpers/temporal';
import { copyFixture, floe } from '../../unit/cli/harness';

const COUNT = 200;

interface Synced {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
}

/** meltano.yml schedules section: `names[i]` runs job `numbers` on `intervalOf(i)`. */
function schedulesYaml(names: string[], intervalOf: (i: number) => string): string {
  return `schedules:\n${names.map((n, i) => `- name: ${n}\n  job: numbers\n  interval: '${intervalOf(i)}'\n`).join('')}`;
}

describe('schedule sync at scale (200 schedules)', function () {
  this.timeout(600_000);
  let t: TestTemporal;
  let root: string;
  let otherRoot: string;
  let env: NodeJS.ProcessEnv;
  const tag = randomUUID().slice(0, 8);
  const names = Array.from({ length: COUNT }, (_, i) => `scale-${tag}-${String(i).padStart(3, '0')}`);
  const ids = names.map((n) => `floe-${n}`);
  const foreignId = uniqueName('not-floe');
  const otherName = `other-${tag}`;
  const times: string[] = [];

  const writeSchedules = (dir: string, yaml: string) => {
    const file = path.join(dir, 'meltano.yml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/schedules:[\s\S]*$/, yaml));
  };
  /** `floe --format json schedule sync` through the CLI, timed. */
  const sync = async (label: string): Promise<Synced> => {
    const startedAt = process.hrtime.bigint();
    const r = await floe(['--format', 'json', 'schedule', 'sync'], root, env);
    const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
    assert.equal(r.code, 0, r.stderr);
    times.push(`${label}: ${ms.toFixed(0)} ms`);
    return JSON.parse(r.stdout) as Synced;
  };

  before(async () => {
    t = await getTestTemporal();
    root = copyFixture('orchestration-cli');
    otherRoot = copyFixture('orchestration-cli');
    env = {
      TEMPORAL_ADDRESS: t.address,
      TEMPORAL_NAMESPACE: t.namespace,
      FLOE_TASK_QUEUE: uniqueName('tq-scale'),
      FLOE_PROJECT_KEY: uniqueName('proj-scale'),
    };
    // Neither of these may be touched: a schedule floe does not manage, and another project's floe schedule.
    await t.client.schedule.create({
      scheduleId: foreignId,
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: 'x', taskQueue: env.FLOE_TASK_QUEUE as string },
      state: { paused: true },
    });
    writeSchedules(
      otherRoot,
      schedulesYaml([otherName], () => '@daily'),
    );
    const other = await syncSchedules(t.client, loadProject(otherRoot), {
      taskQueue: uniqueName('tq-other'),
      projectKey: uniqueName('proj-other'),
    });
    assert.deepEqual(other.created, [`floe-${otherName}`]);
  });

  after(async () => {
    // Whatever a failed test left behind.
    for (const id of [...ids, foreignId, `floe-${otherName}`]) {
      await t?.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    }
    for (const dir of [root, otherRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (times.length) console.log(`      sync times (${COUNT} schedules): ${times.join(', ')}`);
  });

  it('creates 200, re-syncs as a no-op, updates exactly the changed, deletes exactly the removed', async () => {
    const minuteOf = (i: number) => `${i % 60} ${i % 24} * * *`;
    writeSchedules(root, schedulesYaml(names, minuteOf));
    assert.deepEqual(await sync('create'), { created: ids, updated: [], unchanged: [], deleted: [] });

    assert.deepEqual(await sync('no-op'), { created: [], updated: [], unchanged: ids, deleted: [] });

    const changed = [3, 50, 99, 150, 199];
    writeSchedules(
      root,
      schedulesYaml(names, (i) => (changed.includes(i) ? '@hourly' : minuteOf(i))),
    );
    const expectUpdated = changed.map((i) => ids[i] as string);
    assert.deepEqual(await sync('update 5'), {
      created: [],
      updated: expectUpdated,
      unchanged: ids.filter((id) => !expectUpdated.includes(id)),
      deleted: [],
    });
    const d = await t.client.schedule.getHandle(ids[50] as string).describe();
    assert.equal(d.info.nextActionTimes[0]?.getUTCMinutes(), 0, 'the updated schedule fires on the hour');

    const removed = [0, 1, 2, 10, 20, 30, 40, 100, 198, 199];
    const keep = names.filter((_, i) => !removed.includes(i));
    const keptIntervals = names.map((_, i) => (changed.includes(i) ? '@hourly' : minuteOf(i)));
    writeSchedules(
      root,
      schedulesYaml(keep, (k) => keptIntervals[names.indexOf(keep[k] as string)] as string),
    );
    assert.deepEqual(await sync('delete 10'), {
      created: [],
      updated: [],
      unchanged: keep.map((n) => `floe-${n}`),
      deleted: removed.map((i) => ids[i] as string),
    });
    for (const i of removed) {
      await assert.rejects(t.client.schedule.getHandle(ids[i] as string).describe(), { name: 'ScheduleNotFoundError' });
    }

    // Removing every schedule from meltano.yml deletes the rest, and still nothing else.
    writeSchedules(root, 'schedules: []\n');
    assert.deepEqual(
      (await sync('delete all')).deleted,
      keep.map((n) => `floe-${n}`),
    );
    const foreign = await t.client.schedule.getHandle(foreignId).describe();
    assert.equal(foreign.state.paused, true);
    const other = await t.client.schedule.getHandle(`floe-${otherName}`).describe();
    assert.deepEqual(other.memo?.managedBy, 'floe');
  });
});
