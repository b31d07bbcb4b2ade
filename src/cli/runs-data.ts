/**
 * `floe runs` and `floe runs show`: run history from Temporal visibility (floe's search attributes) and the
 * summary each run keeps in its memo; a running run is asked for live progress through its query.
 */
import type { Client } from '@temporalio/client';
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

export async function showRun(ctx: CliContext, client: Client, workflowId: string, json: boolean): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const memo = (d.memo ?? {}) as { summary?: PipelineResult };
  let progress: PipelineProgress | undefined;
  if (d.status.name === 'RUNNING') {
    progress = await handle.query<PipelineProgress>('progress').catch(() => undefined);
  }
  const view = {
    workflowId,
    runId: d.runId,
    status: d.status.name,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    blocks: memo.summary?.blocks ?? progress?.blocks ?? [],
    ...(progress ? { progress } : {}),
  };
  if (json) {
    ctx.json(view);
    return;
  }
  ctx.out(
    `${view.workflowId}  ${view.status}  started ${view.startTime}${view.closeTime ? `, closed ${view.closeTime}` : ''}`,
  );
  if (progress?.currentBlock) ctx.out(`now running: ${progress.currentBlock}`);
  for (const b of view.blocks) {
    ctx.out(
      `  ${b.status.padEnd(9)} ${b.block}  attempts=${b.attempts ?? '-'} records=${b.records ?? '-'}${b.stateId ? ` state=${b.stateId}` : ''}`,
    );
    for (const [s, c] of Object.entries(b.streams ?? {})) ctx.out(`      ${s}: ${c.records} records, ${c.bytes} bytes`);
    if (b.error) ctx.out(`      error: ${b.error}`);
  }
}
