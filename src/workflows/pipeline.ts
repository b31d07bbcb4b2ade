/**
 * The pipeline workflow: one Meltano run (a schedule's job, a job, or ad-hoc blocks).
 * A short activity plans the run from meltano.yml on the worker; then each block runs as its own activity, in
 * order, with the retry policy the plan carries. Deterministic sandbox code: no I/O, activities by type only.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, PlannedBlock } from '../activities/types';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../shared/failure-types';
import type { BlockSummary, PipelineInput, PipelineProgress, PipelineResult } from '../shared/pipeline';
import { FloeStateId, TemporalScheduledStartTime } from '../shared/search-attributes';

export const progressQuery = defineQuery<PipelineProgress>('progress');

/** Planning reads meltano.yml only: seconds, so a short timeout; config errors are not retried. */
const { planPipeline } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes', // reading and validating meltano.yml; minutes means something is wrong
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] },
});

function blockActivities(retry: PipelineInputRetry) {
  return proxyActivities<Activities>({
    // A Singer sync can legitimately run for many hours; liveness is the heartbeat's job, not this timeout.
    startToCloseTimeout: '24 hours',
    // Blocks heartbeat every few seconds; 30 s without one means the worker died, so another worker retries.
    heartbeatTimeout: '30 seconds',
    // A cancelled run ends only once the block has stopped its plugins and released the state ID's run lease;
    // with the default (TRY_CANCEL) it showed CANCELLED while the plugins still ran and a new run of the same
    // state ID was refused as busy.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    },
  });
}

interface PipelineInputRetry {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

function failureMessage(err: unknown): string {
  let e: unknown = err;
  // ActivityFailure wraps the ApplicationFailure that carries the real message.
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const started = Date.now();
  const summaries: BlockSummary[] = [];
  const progress: PipelineProgress = { phase: 'planning', blocks: summaries };
  setHandler(progressQuery, () => progress);

  const plan = await planPipeline({
    schedule: input.schedule,
    job: input.job,
    blocks: input.blocks,
    environment: input.environment,
    flags: input.flags,
  });
  const retry = { ...plan.retry, ...(input.retry ?? {}) };
  if (input.disableRetry) retry.maximumAttempts = 1;
  const acts = blockActivities(retry);
  const firstStateId = plan.blocks.find((b) => b.stateId)?.stateId;
  if (firstStateId) upsertSearchAttributes([{ key: FloeStateId, value: firstStateId }]);
  // Runs a schedule started (on time, triggered or backfilled) carry their nominal time.
  const nominal = workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime);
  progress.phase = 'running';
  progress.blockCount = plan.blocks.length;
  log.info('Pipeline planned', { blocks: plan.blocks.map((b) => b.label), environment: plan.environment });

  let failed: { block: PlannedBlock; error: unknown } | undefined;
  for (const block of plan.blocks) {
    progress.currentBlock = block.label;
    progress.blockIndex = block.index;
    if (failed) {
      summaries.push({ block: block.label, kind: block.kind, status: 'skipped', stateId: block.stateId });
      continue;
    }
    const blockInput = {
      block,
      schedule: input.schedule,
      environment: plan.environment,
      flags: input.flags,
      env: input.env,
      ...(nominal ? { nominalTime: nominal.toISOString() } : {}),
    };
    try {
      const activity = block.kind === 'extract-load' ? acts.runExtractLoad : acts.runCommand;
      // The summary names the block in the Web UI's event list, so the history reads without floe.
      const summary = await activity.executeWithOptions(
        { summary: block.stateId ? `${block.label} (state ID ${block.stateId})` : block.label },
        [blockInput],
      );
      summaries.push(summary);
    } catch (err) {
      const cancelled = isCancellation(err);
      summaries.push({
        block: block.label,
        kind: block.kind,
        status: cancelled ? 'cancelled' : 'failed',
        stateId: block.stateId,
        error: failureMessage(err),
      });
      failed = { block, error: err };
      if (cancelled) break;
    }
  }
  progress.phase = 'done';
  progress.currentBlock = undefined;
  const result: PipelineResult = {
    status: failed ? (isCancellation(failed.error) ? 'cancelled' : 'failed') : 'succeeded',
    blocks: summaries,
    durationMs: Date.now() - started,
  };
  // The memo keeps the small summary readable after the run, for `floe runs show` and the Web UI.
  // Run in a non-cancellable scope so a cancelled run still records what happened.
  await CancellationScope.nonCancellable(async () => {
    upsertMemo({ summary: result });
    await Promise.resolve();
  });
  if (failed) {
    if (isCancellation(failed.error)) throw failed.error;
    throw ApplicationFailure.create({
      message: `Block '${failed.block.label}' failed: ${failureMessage(failed.error)}`,
      type: FailureType.PipelineFailed,
      nonRetryable: true,
      details: [result],
    });
  }
  log.info('Pipeline succeeded', { workflowId: workflowInfo().workflowId, durationMs: result.durationMs });
  return result;
}
