/**
 * `floe runs` and `floe runs show`: run history from Temporal visibility (floe's search attributes) and the
 * summary each run keeps in its memo; a running run is asked for live progress through its query.
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { CliContext } from './context';
import type { BlockHeartbeat } from '../activities/types';
import type { PipelineProgress, PipelineResult } from '../shared/pipeline';
import { FloeJob, FloeSchedule, FloeTrigger } from '../shared/search-attributes';
import { PIPELINE_WORKFLOW_TYPE } from '../shared/pipeline';

const STATUS: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
};

export interface RunRow {
  workflowId: string;
  runId: string;
  status: string;
  schedule?: string;
  job?: string;
  trigger?: string;
  startTime: string;
  closeTime?: string;
  records?: number;
}

function quote(v: string): string {
  return `'${v.replace(/'/g, "\\'")}'`;
}

export interface RunsFilter {
  schedule?: string;
  job?: string;
  status?: string;
  /**
   * The project's task queue: every run of a project (scheduled or manual) runs on it, so it keeps the runs of
   * other projects sharing the namespace out of the list.
   */
  taskQueue?: string;
}

/**
 * The visibility query for the filters. No `ORDER BY`: SQL visibility (the dev server's SQLite, PostgreSQL,
 * MySQL) rejects it ("operation is not supported: 'ORDER BY' clause") and already lists the newest first
 * (running, then by close time); the rows are sorted by start time after listing. Never throws.
 */
export function runsQuery(o: RunsFilter): string {
  const parts = [`WorkflowType = '${PIPELINE_WORKFLOW_TYPE}'`];
  if (o.taskQueue) parts.push(`TaskQueue = ${quote(o.taskQueue)}`);
  if (o.schedule) parts.push(`${FloeSchedule.name} = ${quote(o.schedule)}`);
  if (o.job) parts.push(`${FloeJob.name} = ${quote(o.job)}`);
  if (o.status) parts.push(`ExecutionStatus = '${STATUS[o.status] ?? o.status}'`);
  return parts.join(' AND ');
}

export async function listRuns(
  ctx: CliContext,
  client: Client,
  o: RunsFilter & { limit: number },
  json: boolean,
): Promise<void> {
  const rows: RunRow[] = [];
  for await (const w of client.workflow.list({ query: runsQuery(o), pageSize: Math.min(o.limit, 1000) })) {
    const memo = (w.memo ?? {}) as { summary?: PipelineResult; trigger?: string; schedule?: string; job?: string };
    const attrs = w.typedSearchAttributes;
    rows.push({
      workflowId: w.workflowId,
      runId: w.runId,
      status: w.status.name,
      schedule: attrs.get(FloeSchedule) ?? memo.schedule,
      job: attrs.get(FloeJob) ?? memo.job,
      trigger: attrs.get(FloeTrigger) ?? memo.trigger ?? 'schedule',
      startTime: w.startTime.toISOString(),
      closeTime: w.closeTime?.toISOString(),
      records: memo.summary?.blocks.reduce((n, b) => n + (b.records ?? 0), 0),
    });
    if (rows.length >= o.limit) break;
  }
  rows.sort((a, b) => b.startTime.localeCompare(a.startTime));
  if (json) {
    ctx.json({ runs: rows });
    return;
  }
  if (rows.length === 0) {
    ctx.out('No runs found.');
    return;
  }
  for (const r of rows) {
    ctx.out(
      `${r.status.padEnd(10)} ${r.startTime}  ${r.workflowId}${r.records !== undefined ? `  ${r.records} records` : ''}`,
    );
  }
}

/** What the block running now reported in its last heartbeat (records so far, per stream) and its attempt. */
export interface CurrentBlock {
  block?: string;
  attempt: number;
  records?: number;
  streams?: BlockHeartbeat['streams'];
  lastHeartbeatAt?: string;
}

/** The block activities of a running run, from describe's pending activities and their heartbeat details. */
function currentBlocks(raw: WorkflowExecutionDescription['raw']) {
  const out: CurrentBlock[] = [];
  for (const a of raw.pendingActivities ?? []) {
    const name = a.activityType?.name;
    if (name !== 'runExtractLoad' && name !== 'runCommand') continue;
    const payload = a.heartbeatDetails?.payloads?.[0];
    // floe uses the default data converter (no codec), so heartbeat details decode as plain JSON.
    const beat = payload ? defaultPayloadConverter.fromPayload<Partial<BlockHeartbeat>>(payload) : {};
    const seconds = a.lastHeartbeatTime?.seconds;
    out.push({
      block: beat.block,
      attempt: a.attempt ?? 1,
      ...(beat.records !== undefined ? { records: beat.records, streams: beat.streams ?? {} } : {}),
      ...(seconds != null ? { lastHeartbeatAt: new Date(Number(seconds) * 1000).toISOString() } : {}),
    });
  }
  return out;
}

/**
 * The attempt count of a run's failed block: the workflow records the error but cannot see how many attempts
 * the retry policy made, while the history's last failed activity carries it (`ActivityTaskStarted.attempt`).
 */
async function failedAttempts(client: Client, workflowId: string, runId: string): Promise<number | undefined> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const startedAttempt = new Map<string, number>();
  let attempt: number | undefined;
  for (const e of history.events ?? []) {
    const started = e.activityTaskStartedEventAttributes;
    if (started) startedAttempt.set(String(started.scheduledEventId), started.attempt ?? 1);
    const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (failed) attempt = startedAttempt.get(String(failed.scheduledEventId)) ?? attempt;
  }
  return attempt;
}

/**
 * Prints one run: its blocks from the memo summary (or, while it runs, the progress query and the current
 * block's last heartbeat).
 * @throws WorkflowNotFoundError (from the client) when no run has this ID; ServiceError for server errors.
 */
export async function showRun(ctx: CliContext, client: Client, workflowId: string, json: boolean): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const memo = (d.memo ?? {}) as { summary?: PipelineResult };
  let progress: PipelineProgress | undefined;
  let current: CurrentBlock[] = [];
  if (d.status.name === 'RUNNING') {
    progress = await handle.query<PipelineProgress>('progress').catch(() => undefined);
    current = currentBlocks(d.raw);
  }
  const blocks = memo.summary?.blocks ?? progress?.blocks ?? [];
  const failed = blocks.find((b) => b.status === 'failed' && b.attempts === undefined);
  if (failed) {
    const attempts = await failedAttempts(client, workflowId, d.runId).catch(() => undefined);
    if (attempts !== undefined) failed.attempts = attempts;
  }
  const view = {
    workflowId,
    runId: d.runId,
    status: d.status.name,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    blocks,
    ...(progress ? { progress } : {}),
    ...(current.length ? { current } : {}),
  };
  if (json) {
    ctx.json(view);
    return;
  }
  ctx.out(
    `${view.workflowId}  ${view.status}  started ${view.startTime}${view.closeTime ? `, closed ${view.closeTime}` : ''}`,
  );
  if (progress?.currentBlock) ctx.out(`now running: ${progress.currentBlock}`);
  for (const c of current) {
    ctx.out(`  running   ${c.block ?? '?'}  attempt=${c.attempt} records so far=${c.records ?? '-'}`);
  }
  for (const b of view.blocks) {
    ctx.out(
      `  ${b.status.padEnd(9)} ${b.block}  attempts=${b.attempts ?? '-'} records=${b.records ?? '-'}${b.stateId ? ` state=${b.stateId}` : ''}`,
    );
    for (const [s, c] of Object.entries(b.streams ?? {})) ctx.out(`      ${s}: ${c.records} records, ${c.bytes} bytes`);
    if (b.error) ctx.out(`      error: ${b.error}`);
  }
}
