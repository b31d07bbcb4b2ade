/**
 * `floe run <blocks or jobs...>`: Meltano's `meltano run` (meltano.md §3.3) in this process, without Temporal:
 * plan the blocks, check every plugin is installed, then run the blocks in series; the first failure aborts the
 * rest. Extract-load blocks persist every state the target emits, under the state ID's run lease.
 *
 * As `meltano run` (environment_required since Meltano 2.x), a run needs an environment: `--environment`,
 * MELTANO_ENVIRONMENT or `default_environment`; there is no stateless fallback, even for a project that defines
 * no environments, because state IDs are `<environment>:<extractor>-to-<loader>`.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from './context';
import { createProgressReporter, formatCount, formatDuration } from './progress';
import { truthy } from '../config/env-vars';
import { planRun } from '../config/plan';
import { findPlugin } from '../config/project';
import type { Project } from '../config/project';
import type { PlannedBlock } from '../activities/types';
import { runPluginCommand } from '../plugins/command-block';
import { resolveExecutable } from '../plugins/executable';
import { RuntimeError, UserError } from '../shared/errors';
import type { BlockSummary, PipelineResult, RunFlags } from '../shared/pipeline';
import { runExtractLoad } from '../singer/extract-load';
import { openStateStore } from '../state/open-store';
import type { StateStore } from '../state/store';

export interface RunCliOptions {
  dryRun?: boolean;
  fullRefresh?: boolean;
  refreshCatalog?: boolean;
  /** Commander's negation of `--no-state-update`. */
  stateUpdate?: boolean;
  force?: boolean;
  stateStrategy?: RunFlags['stateStrategy'];
  stateIdSuffix?: string;
  environment?: string;
  verbose?: boolean;
  mergeState?: boolean;
  runId?: string;
  timeout?: string;
}

const STRATEGIES = ['auto', 'merge', 'overwrite'] as const;

/**
 * The run flags from the options, each falling back to its `MELTANO_RUN_*` variable as Meltano's click options do.
 * @throws UserError when MELTANO_RUN_STATE_STRATEGY is not one of auto, merge, overwrite.
 */
export function runFlagsFrom(opts: RunCliOptions, env: NodeJS.ProcessEnv): RunFlags {
  const fromEnv = (name: string) => env[name] !== undefined && env[name] !== '' && truthy(env[name]);
  const strategy = opts.stateStrategy ?? env.MELTANO_RUN_STATE_STRATEGY;
  if (strategy !== undefined && strategy !== '' && !(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UserError(
      `MELTANO_RUN_STATE_STRATEGY '${strategy}' is not a state strategy; use one of ${STRATEGIES.join(', ')}.`,
    );
  }
  if (opts.mergeState) {
    if (strategy !== undefined && strategy !== '' && strategy !== 'auto') {
      throw new UserError(
        `Cannot use both --merge-state and --state-strategy '${strategy}': --merge-state is the deprecated spelling of --state-strategy merge, give only one.`,
      );
    }
  }
  const flags: RunFlags = {
    fullRefresh: opts.fullRefresh === true || fromEnv('MELTANO_RUN_FULL_REFRESH'),
    refreshCatalog: opts.refreshCatalog === true || fromEnv('MELTANO_RUN_REFRESH_CATALOG'),
    noStateUpdate: opts.stateUpdate === false || fromEnv('MELTANO_RUN_NO_STATE_UPDATE'),
    force: opts.force === true || fromEnv('MELTANO_RUN_FORCE'),
  };
  if (opts.mergeState) flags.stateStrategy = 'merge';
  else if (strategy) flags.stateStrategy = strategy as RunFlags['stateStrategy'];
  const suffix = opts.stateIdSuffix ?? env.MELTANO_RUN_STATE_ID_SUFFIX;
  if (suffix) flags.stateIdSuffix = suffix;
  return flags;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The run ID: `--run-id`, else MELTANO_RUN_ID, else a new UUID (lower case, as Python prints a UUID).
 * @throws UserError when the given value is not a UUID.
 */
export function runIdFrom(opts: RunCliOptions, env: NodeJS.ProcessEnv): string {
  const given = opts.runId ?? (env.MELTANO_RUN_ID || undefined);
  if (given === undefined) return randomUUID();
  if (!UUID.test(given)) {
    const from = opts.runId !== undefined ? '--run-id' : 'MELTANO_RUN_ID';
    throw new UserError(
      `${from} '${given}' is not a UUID; use one like 0b8f2c8e-7d3a-4e0f-9c1b-2f6a5d4e3c21, or omit it.`,
    );
  }
  return given.toLowerCase();
}

/**
 * The run timeout in milliseconds: `--timeout`, else MELTANO_RUN_TIMEOUT; undefined for none.
 * @throws UserError when the value is not a whole number of seconds of at least 1 (Meltano's `IntRange(min=1)`).
 */
export function runTimeoutFrom(opts: RunCliOptions, env: NodeJS.ProcessEnv): number | undefined {
  const given = opts.timeout ?? (env.MELTANO_RUN_TIMEOUT || undefined);
  if (given === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(given) || Number(given) < 1) {
    const from = opts.timeout !== undefined ? '--timeout' : 'MELTANO_RUN_TIMEOUT';
    throw new UserError(`${from} '${given}' is not a whole number of seconds of at least 1; use e.g. --timeout 3600.`);
  }
  return Number(given) * 1000;
}

/**
 * The environment a run uses: explicit, MELTANO_ENVIRONMENT, else `default_environment`.
 * @throws UserError when none is given, as `meltano run` requires one.
 */
export function requireRunEnvironment(project: Project, requested: string | undefined): string {
  const name = requested ?? project.defaultEnvironment;
  if (name !== undefined) return name;
  const known = project.environments.map((e) => e.name);
  throw new UserError(
    known.length > 0
      ? `floe run needs a Meltano environment, as meltano run does: pass --environment <name>, set MELTANO_ENVIRONMENT, or set default_environment in meltano.yml (defined: ${known.join(', ')}).`
      : `floe run needs a Meltano environment, as meltano run does, and meltano.yml defines none: add one (e.g. 'environments: [{name: dev}]' and 'default_environment: dev'), then pass --environment <name>, set MELTANO_ENVIRONMENT, or rely on default_environment.`,
  );
}

/** Every plugin a block names (mappings resolve to their mapper). */
function pluginsOf(project: Project, block: PlannedBlock) {
  const names = block.kind === 'command' ? [(block.args[0] ?? '').split(':')[0] as string] : block.args;
  return names.map(
    (n) =>
      findPlugin(project, n) ??
      project.plugins.find(
        (p) =>
          p.type === 'mappers' &&
          ((p.extras.mappings as { name: string }[] | undefined) ?? []).some((m) => m.name === n),
      ),
  );
}

/**
 * Fails before anything runs when a plugin of the plan is not installed, as a run that loads half its blocks
 * and then stops is worse than one that does not start.
 * @throws PluginNotInstalledError (exit 2) naming the plugin and `floe install <name>`.
 */
async function assertPlanInstalled(project: Project, blocks: PlannedBlock[], env: NodeJS.ProcessEnv): Promise<void> {
  const seen = new Set<string>();
  for (const block of blocks) {
    for (const p of pluginsOf(project, block)) {
      if (!p || seen.has(`${p.type}/${p.name}`)) continue;
      seen.add(`${p.type}/${p.name}`);
      const command = block.kind === 'command' ? block.args[0]?.split(':')[1] : undefined;
      const executable = (command !== undefined ? p.commands[command]?.executable : undefined) ?? p.executable;
      await resolveExecutable({ ...p, name: p.venvName, executable }, project.root, env);
    }
  }
}

function printSummary(ctx: CliContext, result: PipelineResult, runId: string): void {
  for (const b of result.blocks) {
    const took = b.durationMs === undefined ? '' : ` in ${formatDuration(b.durationMs)}`;
    const state = b.stateId ? ` (state ID '${b.stateId}', ${b.statesPersisted ?? 0} state(s) saved)` : '';
    ctx.out(`Block '${b.block}' ${b.status}${took}${state}`);
    for (const [stream, counts] of Object.entries(b.streams ?? {})) {
      ctx.out(`  ${stream}: ${formatCount(counts.records)} record(s)`);
    }
  }
  ctx.out(
    `Run ${result.status}: ${result.blocks.length} block(s) in ${formatDuration(result.durationMs)} (run ID ${runId})`,
  );
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('Run blocks (extractor [mappers...] loader, plugin:command) and jobs in series, here and now.')
    .argument('<blocks...>', 'plugin names, plugin:command, mapping names and job names')
    .option('--dry-run', 'print the blocks and state IDs that would run; run nothing')
    .option('--full-refresh', 'ignore saved state and re-discover the catalog (MELTANO_RUN_FULL_REFRESH)')
    .option('--refresh-catalog', 'ignore the cached catalog (MELTANO_RUN_REFRESH_CATALOG)')
    .option('--no-state-update', 'neither read nor write state (MELTANO_RUN_NO_STATE_UPDATE)')
    .option('-f, --force', "run even when another run holds the state ID's lease (MELTANO_RUN_FORCE)")
    .addOption(
      new Option('--state-strategy <strategy>', 'how each state is saved (MELTANO_RUN_STATE_STRATEGY)').choices(
        STRATEGIES,
      ),
    )
    .option('--state-id-suffix <suffix>', 'appended to state IDs as :<suffix> (MELTANO_RUN_STATE_ID_SUFFIX)')
    .addOption(new Option('--merge-state', 'deprecated: use --state-strategy merge').hideHelp())
    .option('--run-id <uuid>', 'use this run ID instead of a new one (MELTANO_RUN_ID)')
    .option(
      '--timeout <seconds>',
      'stop the run after this many seconds: the current block is terminated gracefully, exit 1 (MELTANO_RUN_TIMEOUT)',
    )
    .option(
      '--environment <name>',
      'Meltano environment (MELTANO_ENVIRONMENT, else default_environment); required, as for meltano run',
    )
    .option('--verbose', "print every plugin's log lines on stderr")
    .addHelpText(
      'after',
      '\nA run needs an environment, as meltano run does: --environment, MELTANO_ENVIRONMENT or default_environment\n' +
        '(state IDs are <environment>:<extractor>-to-<loader>); without one floe run stops with exit 2.',
    )
    .action(async (names: string[], opts: RunCliOptions, cmd: Command) => {
      const project = ctx.loadProject();
      const env = ctx.io.env;
      const flags = runFlagsFrom(opts, env);
      const runId = runIdFrom(opts, env);
      const timeoutMs = runTimeoutFrom(opts, env);
      const environment = requireRunEnvironment(project, opts.environment ?? (env.MELTANO_ENVIRONMENT || undefined));
      const plan = planRun(project, { blocks: names, environment, flags });
      const json = ctx.format(cmd) === 'json';
      if (opts.dryRun) {
        if (json) ctx.json({ environment: plan.environment ?? null, blocks: plan.blocks });
        else
          plan.blocks.forEach((b, i) =>
            ctx.out(
              `Dry run: would run block ${i + 1}/${plan.blocks.length}: ${b.label}${b.stateId ? ` (state ID '${b.stateId}')` : ''}`,
            ),
          );
        return;
      }
      await assertPlanInstalled(project, plan.blocks, env);
      const opened = openStateStore({
        uri: project.stateBackend.uri,
        env,
        projectRoot: project.root,
        lockTimeoutSeconds: project.stateBackend.lockTimeoutSeconds,
      });
      if (opened.note) ctx.warn(opened.note);
      const controller = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        ctx.warn(`Received ${sig}: stopping the plugins; state saved so far is kept.`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let timedOut = false;
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              controller.abort();
            }, timeoutMs);
      try {
        const result = await runBlocks(ctx, project, plan.blocks, {
          store: opened.store,
          environment: plan.environment,
          flags,
          signal: controller.signal,
          verbose: opts.verbose === true,
          runId,
        });
        if (json) ctx.json({ run_id: runId, ...result });
        else printSummary(ctx, result, runId);
        const failed = result.blocks.find((b) => b.status !== 'succeeded');
        if (timedOut && failed) {
          throw new RuntimeError(
            `Run timed out after ${(timeoutMs as number) / 1000} s (--timeout / MELTANO_RUN_TIMEOUT): block '${failed.block}' was stopped and the blocks after it skipped; state saved so far is kept. Raise the timeout or run fewer blocks.`,
          );
        }
        if (failed) {
          throw new RuntimeError(
            `Run ${result.status}: block '${failed.block}' ${failed.status}: ${failed.error ?? 'no details'}`,
          );
        }
      } finally {
        if (timer) clearTimeout(timer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await opened.store.close();
      }
    });
}

interface RunBlocksOptions {
  store: StateStore;
  environment?: string;
  flags: RunFlags;
  signal: AbortSignal;
  verbose: boolean;
  runId: string;
}

/** How many of a block's last log lines are shown when it fails. */
const FAILURE_LOG_TAIL = 20;

/**
 * Runs the planned blocks in series until one does not succeed; the rest are reported as skipped.
 * @throws what runExtractLoad / runPluginCommand throw before a plugin starts (config, lease, not installed).
 */
async function runBlocks(
  ctx: CliContext,
  project: Project,
  blocks: PlannedBlock[],
  opts: RunBlocksOptions,
): Promise<PipelineResult> {
  const started = Date.now();
  const leaseOwner = `floe-run/${os.hostname()}/${process.pid}/${opts.runId}`;
  const progress = createProgressReporter(ctx.io.stderr);
  const summaries: BlockSummary[] = [];
  let stopped: BlockSummary['status'] | undefined;
  for (const block of blocks) {
    if (stopped) {
      summaries.push({ block: block.label, kind: block.kind, status: 'skipped' });
      continue;
    }
    const tail: string[] = [];
    const log = (plugin: string, line: string) => {
      if (opts.verbose) {
        progress.clear();
        ctx.warn(`${plugin} | ${line}`);
      }
      tail.push(`${plugin} | ${line}`);
      if (tail.length > FAILURE_LOG_TAIL) tail.shift();
    };
    const blockStarted = Date.now();
    let summary: BlockSummary;
    if (block.kind === 'extract-load') {
      const r = await runExtractLoad({
        project,
        args: block.args,
        stateId: block.stateId as string,
        environment: opts.environment,
        flags: opts.flags,
        stateStore: opts.store,
        leaseOwner,
        signal: opts.signal,
        baseEnv: ctx.io.env,
        onLog: (e) => log(e.plugin, e.line),
        onProgress: (p) => progress.update(block.label, p),
      });
      progress.clear();
      summary = {
        block: block.label,
        kind: block.kind,
        status: r.status,
        stateId: r.stateId,
        streams: r.streams,
        records: r.records,
        statesPersisted: r.statesPersisted,
        durationMs: r.durationMs,
        ...(r.message ? { error: r.message } : {}),
      };
    } else {
      try {
        await runPluginCommand({
          project,
          arg: block.args[0] as string,
          environment: opts.environment,
          signal: opts.signal,
          baseEnv: ctx.io.env,
          onLog: (line) => log(block.label, line),
        });
        summary = { block: block.label, kind: block.kind, status: 'succeeded', durationMs: Date.now() - blockStarted };
      } catch (err) {
        if (err instanceof UserError) throw err;
        const cancelled = opts.signal.aborted;
        summary = {
          block: block.label,
          kind: block.kind,
          status: cancelled ? 'cancelled' : 'failed',
          durationMs: Date.now() - blockStarted,
          error: err instanceof Error ? err.message : String(err),
        };
      }
    }
    if (summary.status !== 'succeeded') {
      stopped = summary.status;
      if (!opts.verbose && summary.status === 'failed') for (const line of tail) ctx.warn(line);
    }
    summaries.push(summary);
  }
  const status = stopped === undefined ? 'succeeded' : stopped === 'cancelled' ? 'cancelled' : 'failed';
  return { status, blocks: summaries, durationMs: Date.now() - started };
}
