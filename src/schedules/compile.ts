/**
 * A pure compiler from a meltano.yml schedule to Temporal `ScheduleOptions`. The action's arguments hold
 * names only (schedule, job, environment); the worker reads meltano.yml for everything else.
 *
 * IDs read like Meltano's Airflow DAG IDs so the Temporal Web UI is readable without floe: the workflow ID base
 * is `meltano_<schedule>_<job>` (`meltano_<schedule>` for legacy extractor/loader schedules) and the server
 * appends the nominal time (`...-2026-11-25T02:00:00Z`).
 */
import { createHash } from 'node:crypto';
import type { ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import { parseDuration } from '../config/floe-annotations';
import type { OverlapPolicyName, FloeRetry } from '../config/floe-annotations';
import { findJob } from '../config/project';
import type { Project, ScheduleDef } from '../config/project';
import { FloeConfigHash, FloeEnvironment, FloeJob, FloeSchedule, FloeTrigger } from '../shared/search-attributes';
import { PIPELINE_WORKFLOW_TYPE } from '../shared/pipeline';
import type { PipelineInput, RetrySpec } from '../shared/pipeline';
import { cronToCalendars } from './interval';

/** Marker in the (create-only) schedule memo: sync manages only schedules carrying it. */
export const MANAGED_BY = 'floe';

/**
 * Catch-up window when `annotations.floe.catchup_window` is unset: runs missed while the Temporal server was
 * down for up to an hour are still started (once, given the default SKIP overlap); longer outages are not
 * replayed, like Meltano's Airflow DAGs (`catchup=False`). Temporal's own default would be a year.
 */
export const DEFAULT_CATCHUP_WINDOW = '1h';

const OVERLAP: Record<OverlapPolicyName, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  buffer_one: 'BUFFER_ONE',
  buffer_all: 'BUFFER_ALL',
  cancel_other: 'CANCEL_OTHER',
  terminate_other: 'TERMINATE_OTHER',
  allow_all: 'ALLOW_ALL',
};

export interface CompileOptions {
  taskQueue: string;
  /** Distinguishes projects sharing a namespace; kept in the schedule memo. */
  projectKey: string;
  /** Prefix of schedule IDs (default `floe-`). */
  idPrefix?: string;
}

export interface CompiledSchedule {
  scheduleId: string;
  /** sha256 of everything the options are made of; sync compares it instead of the compiled spec. */
  configHash: string;
  options: ScheduleOptions;
}

export function scheduleIdFor(scheduleName: string, idPrefix = 'floe-'): string {
  return `${idPrefix}${scheduleName}`;
}

export function workflowIdBaseFor(schedule: Pick<ScheduleDef, 'name' | 'job'>): string {
  return schedule.job ? `meltano_${schedule.name}_${schedule.job}` : `meltano_${schedule.name}`;
}

/** Converts `annotations.floe.retry` (durations as text) to the RetrySpec carried in workflow input. */
export function retrySpecFrom(retry: FloeRetry | undefined): RetrySpec | undefined {
  if (!retry) return undefined;
  const spec: RetrySpec = {};
  if (retry.maximum_attempts !== undefined) spec.maximumAttempts = retry.maximum_attempts;
  if (retry.initial_interval !== undefined) spec.initialIntervalMs = parseDuration(retry.initial_interval);
  if (retry.backoff_coefficient !== undefined) spec.backoffCoefficient = retry.backoff_coefficient;
  if (retry.maximum_interval !== undefined) spec.maximumIntervalMs = parseDuration(retry.maximum_interval);
  return spec;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Compiles one schedule. Pure: the same project and options always give the same result and hash.
 * Retry: the job's `annotations.floe.retry` wins over the schedule's; the worker applies the documented
 * default when neither is set.
 */
export function compileSchedule(project: Project, schedule: ScheduleDef, opts: CompileOptions): CompiledSchedule {
  const floe = schedule.floe;
  const job = schedule.job ? findJob(project, schedule.job) : undefined;
  const retry = retrySpecFrom(job?.floe.retry ?? floe.retry);
  const input: PipelineInput = {
    schedule: schedule.name,
    trigger: 'schedule',
    ...(schedule.job ? { job: schedule.job } : {}),
    ...(project.defaultEnvironment ? { environment: project.defaultEnvironment } : {}),
    ...(retry ? { retry } : {}),
  };
  const interval = schedule.parsedInterval;
  const manual = interval.kind === 'manual';
  const spec: ScheduleOptions['spec'] =
    interval.kind === 'manual' ? {} : { calendars: cronToCalendars(interval.parsed) };
  if (floe.timezone) spec.timezone = floe.timezone;
  if (floe.jitter) spec.jitter = parseDuration(floe.jitter);
  const note = floe.note ?? (manual ? `${schedule.interval}: runs only when triggered` : undefined);
  const searchAttributes = [
    { key: FloeSchedule, value: schedule.name },
    { key: FloeTrigger, value: 'schedule' },
    ...(schedule.job ? [{ key: FloeJob, value: schedule.job }] : []),
    ...(project.defaultEnvironment ? [{ key: FloeEnvironment, value: project.defaultEnvironment }] : []),
  ];
  const hashInput = {
    v: 1,
    schedule: { ...schedule, origin: undefined, parsedInterval: undefined },
    jobTasks: job?.tasks,
    input,
    taskQueue: opts.taskQueue,
  };
  const configHash = createHash('sha256').update(stableJson(hashInput)).digest('hex').slice(0, 32);
  const scheduleId = scheduleIdFor(schedule.name, opts.idPrefix);
  const options: ScheduleOptions = {
    scheduleId,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: PIPELINE_WORKFLOW_TYPE,
      taskQueue: opts.taskQueue,
      workflowId: workflowIdBaseFor(schedule),
      args: [input],
      memo: { configHash, schedule: schedule.name, ...(schedule.job ? { job: schedule.job } : {}) },
      typedSearchAttributes: searchAttributes,
      staticSummary: schedule.job
        ? `Meltano job '${schedule.job}' (schedule '${schedule.name}', ${schedule.interval})`
        : `Meltano ${schedule.extractor} -> ${schedule.loader} (schedule '${schedule.name}', ${schedule.interval})`,
    },
    policies: {
      overlap: OVERLAP[floe.overlap ?? 'skip'],
      catchupWindow: parseDuration(floe.catchup_window ?? DEFAULT_CATCHUP_WINDOW),
      pauseOnFailure: floe.pause_on_failure ?? false,
    },
    memo: { managedBy: MANAGED_BY, project: opts.projectKey },
    // Listed with the schedule, so an unchanged schedule is recognised without describing it.
    typedSearchAttributes: [
      { key: FloeConfigHash, value: configHash },
      { key: FloeSchedule, value: schedule.name },
    ],
    state: { paused: floe.paused ?? false, ...(note ? { note } : {}) },
  };
  return { scheduleId, configHash, options };
}
