/**
 * Planning a run: from a schedule, a job or ad-hoc block names to the ordered blocks with their state IDs and
 * the retry policy. Pure over a loaded Project; the plan activity and `floe run` both use it.
 */
import { UserError } from '../shared/errors';
import type { RetrySpec, RunFlags } from '../shared/pipeline';
import type { PipelinePlan, PlannedBlock } from '../activities/types';
import { retrySpecFrom } from '../schedules/compile';
import { stateIdFor, stateIdForEltSchedule } from '../state/state-id';
import { findJob, findSchedule } from './project';
import type { Project } from './project';
import { TaskParseError, parseBlocks } from './tasks';
import type { Block, PluginLookup } from './tasks';

/**
 * Block retries when meltano.yml sets none: three attempts, 10 s then 20 s apart (capped at 5 min). Enough
 * to ride out a restarted database or a worker that died; a persistent failure still fails within a minute.
 */
export const DEFAULT_RETRY: Required<RetrySpec> = {
  maximumAttempts: 3,
  initialIntervalMs: 10_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 300_000,
};

export interface PlanRequest {
  schedule?: string;
  job?: string;
  /** Plugin names, `plugin:command`, and job names (expanded inline, as `meltano run` does). */
  blocks?: string[];
  environment?: string;
  flags?: RunFlags;
}

function lookupOf(project: Project): PluginLookup {
  return {
    typeOf: (n) => project.plugins.find((p) => p.name === n)?.type,
    mapperOfMapping: (n) =>
      project.plugins.find(
        (p) =>
          p.type === 'mappers' &&
          ((p.extras.mappings as { name: string }[] | undefined) ?? []).some((m) => m.name === n),
      )?.name,
    names: () => project.plugins.map((p) => p.name),
  };
}

function label(block: Block): string {
  if (block.kind === 'command') return block.command ? `${block.plugin}:${block.command}` : block.plugin;
  return [block.extractor, ...block.mappers.map((m) => m.mapping ?? m.plugin), block.loader].join(' ');
}

function args(block: Block): string[] {
  return label(block).split(' ');
}

/**
 * The environment a run uses: the explicit one, else `default_environment`.
 * @throws UserError when the named environment is not defined.
 */
export function resolveEnvironment(project: Project, requested?: string): string | undefined {
  const name = requested ?? project.defaultEnvironment;
  if (name === undefined) return undefined;
  if (!project.environments.some((e) => e.name === name)) {
    const known = project.environments.map((e) => e.name).join(', ') || 'none';
    throw new UserError(
      `Environment '${name}' is not defined in meltano.yml (defined: ${known}); add it under 'environments' or choose another with --environment.`,
    );
  }
  return name;
}

/**
 * Plans a run.
 * @throws UserError for unknown schedules, jobs, environments or block names.
 */
export function planRun(project: Project, req: PlanRequest): PipelinePlan {
  const environment = resolveEnvironment(project, req.environment);
  const suffix = req.flags?.stateIdSuffix ?? project.environments.find((e) => e.name === environment)?.stateIdSuffix;
  const planned: PlannedBlock[] = [];
  let retry: RetrySpec | undefined;
  const push = (blocks: Block[], taskIndex: number, eltStateId?: string) => {
    for (const b of blocks) {
      planned.push({
        index: planned.length,
        taskIndex,
        label: label(b),
        kind: b.kind,
        args: args(b),
        ...(b.kind === 'extract-load'
          ? { stateId: eltStateId ?? stateIdFor({ environment, extractor: b.extractor, loader: b.loader, suffix }) }
          : {}),
      });
    }
  };

  if (req.schedule !== undefined) {
    const schedule = findSchedule(project, req.schedule);
    if (!schedule) {
      throw new UserError(
        `Schedule '${req.schedule}' is not defined in meltano.yml (defined: ${project.schedules.map((s) => s.name).join(', ') || 'none'}).`,
      );
    }
    if (schedule.job === undefined) {
      // Legacy ELT schedule: one block, state ID = the bare schedule name (meltano.md §3.2).
      push(
        [
          {
            kind: 'extract-load',
            extractor: schedule.extractor as string,
            mappers: [],
            loader: schedule.loader as string,
          },
        ],
        0,
        stateIdForEltSchedule(schedule.name),
      );
      retry = retrySpecFrom(schedule.floe.retry);
    } else {
      const job = findJob(project, schedule.job);
      if (!job) throw new UserError(`Schedule '${schedule.name}' names job '${schedule.job}', which is not defined.`);
      job.blocks.forEach((blocks, t) => push(blocks, t));
      retry = retrySpecFrom(job.floe.retry ?? schedule.floe.retry);
    }
  } else if (req.job !== undefined) {
    const job = findJob(project, req.job);
    if (!job) {
      throw new UserError(
        `Job '${req.job}' is not defined in meltano.yml (defined: ${project.jobs.map((j) => j.name).join(', ') || 'none'}).`,
      );
    }
    job.blocks.forEach((blocks, t) => push(blocks, t));
    retry = retrySpecFrom(job.floe.retry);
  } else if (req.blocks && req.blocks.length > 0) {
    // `meltano run` semantics: job names expand inline; a name that is both a plugin and a job is ambiguous.
    const lookup = lookupOf(project);
    const expanded: string[] = [];
    for (const name of req.blocks) {
      const job = findJob(project, name);
      if (job && lookup.typeOf(name.split(':')[0] as string)) {
        throw new UserError(`'${name}' is both a plugin and a job; rename one of them.`);
      }
      if (job) expanded.push(...job.tasks.flat());
      else expanded.push(name);
    }
    try {
      push(parseBlocks(expanded, lookup), 0);
    } catch (err) {
      if (err instanceof TaskParseError) throw new UserError(`The block list '${expanded.join(' ')}' ${err.message}.`);
      throw err;
    }
  } else {
    throw new UserError('Nothing to run: name a schedule, a job, or blocks such as "tap-x target-y".');
  }
  return { environment, blocks: planned, retry: { ...DEFAULT_RETRY, ...(retry ?? {}) } };
}
