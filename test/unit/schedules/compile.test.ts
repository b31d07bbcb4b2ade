import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { CalendarSpec, ScheduleOptions } from '@temporalio/client';

import { loadProject, parseProjectText } from '../../../src/config/load';
import { findSchedule } from '../../../src/config/project';
import type { Project } from '../../../src/config/project';
import { compileSchedule, retrySpecFrom, scheduleIdFor, workflowIdBaseFor } from '../../../src/schedules/compile';
import type { CompileOptions } from '../../../src/schedules/compile';
import {
  FloeConfigHash,
  FloeEnvironment,
  FloeJob,
  FloeSchedule,
  FloeTrigger,
} from '../../../src/shared/search-attributes';

const ROOT = path.resolve(__dirname, '..', '..', 'fixtures', 'projects', 'docs-schedules');
const TEXT = fs.readFileSync(path.join(ROOT, 'meltano.yml'), 'utf8');
const OPTS: CompileOptions = { taskQueue: 'floe', projectKey: 'proj-1' };
const SECRET = 's3cr3t-value';

function compile(project: Project, name: string, opts: CompileOptions = OPTS) {
  const schedule = findSchedule(project, name);
  assert.ok(schedule, `schedule ${name} missing`);
  return compileSchedule(project, schedule, opts);
}

/** The fixture with one textual edit, parsed as floe would parse the edited file. */
function edited(from: string, to: string): Project {
  assert.ok(TEXT.includes(from), `fixture has no '${from}'`);
  return parseProjectText(TEXT.replace(from, to), ROOT);
}

const midnight: CalendarSpec = {
  second: 0,
  minute: [{ start: 0, end: 0, step: 1 }],
  hour: [{ start: 0, end: 0, step: 1 }],
  month: '*',
  comment: '0 0 * * *',
  dayOfMonth: '*',
  dayOfWeek: '*',
};

describe('schedules/compile', () => {
  const project = loadProject(ROOT);

  it('compiles a job schedule to names-only ScheduleOptions with the default policies', () => {
    const { scheduleId, configHash, options } = compile(project, 'daily-gitlab-load');
    assert.equal(scheduleId, 'floe-daily-gitlab-load');
    assert.match(configHash, /^[0-9a-f]{32}$/);
    const expected: ScheduleOptions = {
      scheduleId: 'floe-daily-gitlab-load',
      spec: { calendars: [midnight] },
      action: {
        type: 'startWorkflow',
        workflowType: 'pipelineWorkflow',
        taskQueue: 'floe',
        workflowId: 'meltano_daily-gitlab-load_gitlab-to-postgres',
        args: [
          {
            schedule: 'daily-gitlab-load',
            trigger: 'schedule',
            job: 'gitlab-to-postgres',
            environment: 'prod',
            retry: { maximumAttempts: 4, initialIntervalMs: 10_000 },
          },
        ],
        memo: { configHash, schedule: 'daily-gitlab-load', job: 'gitlab-to-postgres' },
        typedSearchAttributes: [
          { key: FloeSchedule, value: 'daily-gitlab-load' },
          { key: FloeTrigger, value: 'schedule' },
          { key: FloeJob, value: 'gitlab-to-postgres' },
          { key: FloeEnvironment, value: 'prod' },
        ],
        staticSummary: "Meltano job 'gitlab-to-postgres' (schedule 'daily-gitlab-load', @daily)",
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000, pauseOnFailure: false },
      memo: { managedBy: 'floe', project: 'proj-1' },
      typedSearchAttributes: [
        { key: FloeConfigHash, value: configHash },
        { key: FloeSchedule, value: 'daily-gitlab-load' },
      ],
      state: { paused: false },
    };
    assert.deepEqual(options, expected);
  });

  it('compiles a legacy extractor/loader schedule without a job, with two calendars for dom OR dow', () => {
    const { configHash, options } = compile(project, 'gitlab-legacy', { ...OPTS, idPrefix: 'acme-' });
    const base = { second: 0, minute: [{ start: 0, end: 0, step: 1 }], hour: [{ start: 3, end: 3, step: 1 }] };
    const expected: ScheduleOptions = {
      scheduleId: 'acme-gitlab-legacy',
      spec: {
        calendars: [
          {
            ...base,
            month: '*',
            comment: '0 3 1,15 * sun',
            dayOfMonth: [
              { start: 1, end: 1, step: 1 },
              { start: 15, end: 15, step: 1 },
            ],
            dayOfWeek: '*',
          },
          {
            ...base,
            month: '*',
            comment: '0 3 1,15 * sun',
            dayOfMonth: '*',
            dayOfWeek: [{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }],
          },
        ],
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'pipelineWorkflow',
        taskQueue: 'floe',
        workflowId: 'meltano_gitlab-legacy',
        args: [{ schedule: 'gitlab-legacy', trigger: 'schedule', environment: 'prod' }],
        memo: { configHash, schedule: 'gitlab-legacy' },
        typedSearchAttributes: [
          { key: FloeSchedule, value: 'gitlab-legacy' },
          { key: FloeTrigger, value: 'schedule' },
          { key: FloeEnvironment, value: 'prod' },
        ],
        staticSummary: "Meltano tap-gitlab -> target-postgres (schedule 'gitlab-legacy', 0 3 1,15 * sun)",
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000, pauseOnFailure: false },
      memo: { managedBy: 'floe', project: 'proj-1' },
      typedSearchAttributes: [
        { key: FloeConfigHash, value: configHash },
        { key: FloeSchedule, value: 'gitlab-legacy' },
      ],
      state: { paused: false },
    };
    assert.deepEqual(options, expected);
  });

  it('maps annotations.floe to the spec, policies and state; the job retry wins over the schedule retry', () => {
    const { options } = compile(project, 'hourly-tuned');
    assert.equal(options.spec.timezone, 'America/New_York');
    assert.equal(options.spec.jitter, 120_000);
    assert.deepEqual(options.policies, {
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
      catchupWindow: 1_800_000,
      pauseOnFailure: true,
    });
    assert.deepEqual(options.state, { paused: true, note: 'paused until the warehouse migration is done' });
    assert.deepEqual(options.action.args?.[0], {
      schedule: 'hourly-tuned',
      trigger: 'schedule',
      job: 'gitlab-to-postgres',
      environment: 'prod',
      retry: { maximumAttempts: 4, initialIntervalMs: 10_000 },
    });
    // Without a job retry the schedule's applies.
    const noJobRetry = edited(
      '  annotations:\n    floe:\n      retry:\n        maximum_attempts: 4\n        initial_interval: 10s\n',
      '',
    );
    assert.equal(noJobRetry.jobs[0]?.floe.retry, undefined);
    assert.deepEqual((compile(noJobRetry, 'hourly-tuned').options.action.args?.[0] as { retry?: unknown }).retry, {
      maximumAttempts: 9,
    });
  });

  it('compiles @once to an empty spec with a note saying it runs only when triggered', () => {
    const { options } = compile(project, 'backfill-by-hand');
    assert.deepEqual(options.spec, {});
    assert.deepEqual(options.state, { paused: false, note: '@once: runs only when triggered' });
    assert.equal(options.action.workflowId, 'meltano_backfill-by-hand_gitlab-to-postgres');
  });

  it('gives the same options and hash on every call', () => {
    for (const s of project.schedules) {
      const a = compileSchedule(project, s, OPTS);
      const b = compileSchedule(loadProject(ROOT), s, OPTS);
      assert.deepEqual(a, b);
      assert.equal(JSON.stringify(a), JSON.stringify(b));
    }
  });

  it('changes the hash when the interval, the job tasks, the annotations or the task queue change', () => {
    const hash = (p: Project, name = 'daily-gitlab-load', opts = OPTS) => compile(p, name, opts).configHash;
    const before = hash(project);
    const changed: [string, string][] = [
      ['interval', hash(edited("interval: '@daily'", "interval: '@hourly'"))],
      ['job tasks', hash(edited('  - dbt-postgres:run\n', '  - dbt-postgres:test\n'))],
      ['job annotations', hash(edited('maximum_attempts: 4', 'maximum_attempts: 5'))],
      ['schedule env', hash(edited('TAP_GITLAB_PRIVATE_TOKEN: s3cr3t-value', 'TAP_GITLAB_PRIVATE_TOKEN: other'))],
      ['task queue', hash(project, 'daily-gitlab-load', { ...OPTS, taskQueue: 'floe-2' })],
      ['default environment', hash(edited('default_environment: prod\n', ''))],
    ];
    for (const [what, h] of changed) assert.notEqual(h, before, `${what} did not change the hash`);
    const tuned = hash(project, 'hourly-tuned');
    assert.notEqual(hash(edited('jitter: 2m', 'jitter: 3m'), 'hourly-tuned'), tuned);
    assert.notEqual(hash(edited('overlap: buffer_one', 'overlap: skip'), 'hourly-tuned'), tuned);
    assert.notEqual(hash(edited('paused: true', 'paused: false'), 'hourly-tuned'), tuned);
  });

  it('keeps the hash when only plugin config or another schedule changes (the worker reads config itself)', () => {
    const before = compile(project, 'daily-gitlab-load').configHash;
    assert.equal(
      compile(edited('private_token: s3cr3t-value', 'private_token: rotated'), 'daily-gitlab-load').configHash,
      before,
    );
    assert.equal(compile(edited('jitter: 2m', 'jitter: 3m'), 'daily-gitlab-load').configHash, before);
  });

  it('puts no config value, env value or secret into the options', () => {
    assert.ok(TEXT.split(SECRET).length > 3, 'the fixture holds the secret in plugin config, environment and env');
    for (const s of project.schedules) {
      const json = JSON.stringify(compileSchedule(project, s, OPTS));
      assert.ok(!json.includes(SECRET), `${s.name} leaks the secret`);
      assert.ok(!json.includes('meltano/meltano'), `${s.name} carries plugin config`);
      assert.ok(!json.includes('TAP_GITLAB_PRIVATE_TOKEN'), `${s.name} carries schedule env`);
    }
  });

  it('names IDs like Meltano DAGs and converts retry durations to milliseconds', () => {
    assert.equal(scheduleIdFor('nightly'), 'floe-nightly');
    assert.equal(scheduleIdFor('nightly', 'team-a-'), 'team-a-nightly');
    assert.equal(workflowIdBaseFor({ name: 'nightly', job: 'load' }), 'meltano_nightly_load');
    assert.equal(workflowIdBaseFor({ name: 'nightly' }), 'meltano_nightly');
    assert.equal(retrySpecFrom(undefined), undefined);
    assert.deepEqual(
      retrySpecFrom({ maximum_attempts: 3, initial_interval: '1.5s', backoff_coefficient: 3, maximum_interval: '1h' }),
      { maximumAttempts: 3, initialIntervalMs: 1500, backoffCoefficient: 3, maximumIntervalMs: 3_600_000 },
    );
  });
});
