/**
 * The activities a pipeline workflow calls. They read meltano.yml on the worker (so workflow inputs carry
 * names only), heartbeat counts while plugins run, stop plugin processes on cancellation, and turn errors
 * into ApplicationFailures whose `type` tells the retry policy what may be retried.
 */
import { Context, activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { loadProject } from '../config/load';
import { findSchedule } from '../config/project';
import { planRun } from '../config/plan';
import { dataIntervalEnv } from '../schedules/data-interval';
import { PluginNotInstalledError } from '../plugins/errors';
import { FailureType } from '../shared/failure-types';
import { UserError } from '../shared/errors';
import type { BlockSummary } from '../shared/pipeline';
import { runExtractLoad } from '../singer/extract-load';
import { runPluginCommand } from '../plugins/command-block';
import { openStateStore } from '../state/open-store';
import { StateIdBusyError, StatePersistenceError } from '../state/store';
import type { Activities, BlockHeartbeat, PipelinePlan, PlanPipelineInput, RunBlockInput } from './types';

export interface ActivityDeps {
  projectRoot: string;
  /** Heartbeat period; the workflow's heartbeat timeout is 30 s. */
  heartbeatIntervalMs?: number;
}

/** Maps a thrown error to the failure the workflow's retry policy understands. */
function toFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof PluginNotInstalledError) {
    return ApplicationFailure.create({
      message: err.message,
      type: FailureType.PluginNotInstalled,
      nonRetryable: true,
    });
  }
  if (err instanceof StateIdBusyError) {
    // Retryable: another run of the same state ID (a catch-up run, a manual trigger) usually ends soon, and
    // the block then runs after it instead of loading the same data twice at once.
    return ApplicationFailure.create({ message: err.message, type: FailureType.StateIdBusy });
  }
  if (err instanceof StatePersistenceError) {
    return ApplicationFailure.create({ message: err.message, type: FailureType.StatePersistence });
  }
  if (err instanceof UserError) {
    return ApplicationFailure.create({ message: err.message, type: FailureType.ConfigError, nonRetryable: true });
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function createActivities(deps: ActivityDeps): Activities {
  const interval = deps.heartbeatIntervalMs ?? 5_000;

  function planPipeline(input: PlanPipelineInput): Promise<PipelinePlan> {
    try {
      return Promise.resolve(planRun(loadProject(deps.projectRoot), input));
    } catch (err) {
      return Promise.reject(toFailure(err));
    }
  }

  async function runExtractLoadActivity(input: RunBlockInput): Promise<BlockSummary> {
    const info = activityInfo();
    const started = Date.now();
    const project = loadProject(deps.projectRoot);
    const schedule = input.schedule ? findSchedule(project, input.schedule) : undefined;
    const { store } = openStateStore({
      uri: project.stateBackend.uri,
      projectRoot: project.root,
      lockTimeoutSeconds: project.stateBackend.lockTimeoutSeconds,
    });
    const beat: BlockHeartbeat = { block: input.block.label, records: 0, bytes: 0, streams: {}, statesPersisted: 0 };
    const timer = setInterval(() => heartbeat(beat), interval);
    heartbeat(beat);
    try {
      const result = await runExtractLoad({
        project,
        args: input.block.args,
        stateId: input.block.stateId as string,
        environment: input.environment,
        flags: input.flags,
        scheduleEnv: schedule?.env,
        extraEnv: { ...dataIntervalEnv(schedule, input.nominalTime), ...(input.env ?? {}) },
        stateStore: store,
        // A retry of the same activity may take over its own lease (after a worker died).
        leaseOwner: `${info.workflowExecution?.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`,
        signal: cancellationSignal(),
        progressIntervalMs: 1_000,
        onProgress: (p) => {
          beat.records = p.totals.records;
          beat.bytes = p.totals.bytes;
          beat.streams = p.streams;
          beat.statesPersisted = p.statesPersisted;
        },
        onLog: (entry) => {
          Context.current().log.info(entry.line, { plugin: entry.plugin, stream: entry.stream });
        },
      });
      const summary: BlockSummary = {
        block: input.block.label,
        kind: 'extract-load',
        status: result.status,
        stateId: result.stateId,
        streams: result.streams,
        records: result.records,
        statesPersisted: result.statesPersisted,
        durationMs: Date.now() - started,
        attempts: info.attempt,
      };
      if (result.status === 'cancelled') throw cancellationSignal().reason ?? new Error('cancelled');
      if (result.status === 'failed') {
        throw ApplicationFailure.create({
          message: `${result.message ?? 'Block failed'} (exit codes: ${JSON.stringify(result.exitCodes)})`,
          type: FailureType.PluginFailed,
          details: [summary],
        });
      }
      return summary;
    } catch (err) {
      throw toFailure(err);
    } finally {
      clearInterval(timer);
      await store.close();
    }
  }

  async function runCommand(input: RunBlockInput): Promise<BlockSummary> {
    const info = activityInfo();
    const started = Date.now();
    const timer = setInterval(() => heartbeat({ block: input.block.label }), interval);
    try {
      const project = loadProject(deps.projectRoot);
      const schedule = input.schedule ? findSchedule(project, input.schedule) : undefined;
      await runPluginCommand({
        project,
        arg: input.block.args[0] as string,
        environment: input.environment,
        scheduleEnv: schedule?.env,
        extraEnv: { ...dataIntervalEnv(schedule, input.nominalTime), ...(input.env ?? {}) },
        signal: cancellationSignal(),
        onLog: (line) => {
          Context.current().log.info(line, { block: input.block.label });
        },
      });
      return {
        block: input.block.label,
        kind: 'command',
        status: 'succeeded',
        durationMs: Date.now() - started,
        attempts: info.attempt,
      };
    } catch (err) {
      throw toFailure(err);
    } finally {
      clearInterval(timer);
    }
  }

  return { planPipeline, runExtractLoad: runExtractLoadActivity, runCommand };
}
