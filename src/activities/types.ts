/**
 * The activity contract: input and result types of every activity. Workflows import this file with
 * `import type` only. Everything here crosses Temporal: names, IDs, flags and counts, never config values.
 */
import type { BlockSummary, RetrySpec, RunFlags, StreamCounts } from '../shared/pipeline';

export interface PlanPipelineInput {
  schedule?: string;
  job?: string;
  blocks?: string[];
  environment?: string;
  flags?: RunFlags;
}

export interface PlannedBlock {
  /** Position in the run, 0-based. */
  index: number;
  /** Which task of the job the block belongs to (Meltano's unit of retry in Airflow DAGs). */
  taskIndex: number;
  /** `tap-x mapper target-y` or `dbt:run`, for summaries and the Web UI. */
  label: string;
  kind: 'extract-load' | 'command';
  /** Plugin names (and `plugin:command`) of the block. */
  args: string[];
  stateId?: string;
}

export interface PipelinePlan {
  environment?: string;
  blocks: PlannedBlock[];
  /** From annotations.floe.retry (job, then schedule) or the documented default. */
  retry: Required<RetrySpec>;
}

export interface RunBlockInput {
  block: PlannedBlock;
  schedule?: string;
  environment?: string;
  flags?: RunFlags;
  /** `--env K=V` values given at trigger time. */
  env?: Record<string, string>;
  /** Nominal time (ISO 8601) of a run a schedule started; the end of its data interval. */
  nominalTime?: string;
}

/** Heartbeat details of a running block: small and secret-free (also the resume point of a retry). */
export interface BlockHeartbeat {
  block: string;
  records: number;
  bytes: number;
  streams: Record<string, StreamCounts>;
  statesPersisted: number;
  lastStateAt?: string;
}

export interface Activities {
  planPipeline(input: PlanPipelineInput): Promise<PipelinePlan>;
  runExtractLoad(input: RunBlockInput): Promise<BlockSummary>;
  runCommand(input: RunBlockInput): Promise<BlockSummary>;
}
