/**
 * Inputs and results of the pipeline workflow. They cross Temporal, so they hold names, IDs, flags and
 * counts only: never config values, secrets, records or catalogs (the worker resolves those from meltano.yml).
 */

/** What started a run. */
export type TriggerKind = 'schedule' | 'manual' | 'backfill';

/** Meltano's `meltano run` flags that floe honours per run. */
export interface RunFlags {
  fullRefresh?: boolean;
  refreshCatalog?: boolean;
  noStateUpdate?: boolean;
  /** Skip the one-run-per-state-ID guard. */
  force?: boolean;
  stateStrategy?: 'auto' | 'merge' | 'overwrite';
  stateIdSuffix?: string;
}

/** Retry numbers for block activities (from `annotations.floe.retry`); durations in milliseconds. */
export interface RetrySpec {
  maximumAttempts?: number;
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
}

export interface PipelineInput {
  /** meltano.yml schedule name (scheduled, backfilled and schedule-triggered runs). */
  schedule?: string;
  /** meltano.yml job name; for a schedule this is the schedule's job. */
  job?: string;
  /** Ad-hoc blocks (`floe trigger tap-x target-y`), when neither schedule nor job is given. */
  blocks?: string[];
  /** Meltano environment; unset means the project's default_environment. */
  environment?: string;
  trigger: TriggerKind;
  flags?: RunFlags;
  /**
   * Extra environment variables for every plugin (`--env K=V`). They are visible in the workflow history:
   * pass names of secrets through the worker's environment instead.
   */
  env?: Record<string, string>;
  /** A single attempt per block (Meltano docs' `--disable-retry`). */
  disableRetry?: boolean;
  /** Overrides the retry policy planned from meltano.yml. */
  retry?: RetrySpec;
}

/** Per-stream counts of one extract-load block. */
export interface StreamCounts {
  records: number;
  bytes: number;
}

export interface BlockSummary {
  /** `tap-x target-y` or `dbt:run`. */
  block: string;
  kind: 'extract-load' | 'command';
  status: 'succeeded' | 'failed' | 'cancelled' | 'skipped';
  stateId?: string;
  streams?: Record<string, StreamCounts>;
  records?: number;
  statesPersisted?: number;
  durationMs?: number;
  attempts?: number;
  error?: string;
}

export interface PipelineResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  blocks: BlockSummary[];
  durationMs: number;
}

/** Live progress returned by the workflow's progress query. */
export interface PipelineProgress {
  phase: 'planning' | 'running' | 'done';
  currentBlock?: string;
  blockIndex?: number;
  blockCount?: number;
  blocks: BlockSummary[];
}

export const PIPELINE_WORKFLOW_TYPE = 'pipelineWorkflow';
/** Default task queue of floe workers (`FLOE_TASK_QUEUE` overrides). */
export const DEFAULT_TASK_QUEUE = 'floe';
