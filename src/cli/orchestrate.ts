/**
 * Commands that talk to Temporal: `floe worker`, `floe schedule sync|describe|pause|unpause|backfill`,
 * `floe trigger`, `floe runs`. Connection settings come from the environment (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, as the `temporal` CLI reads them).
 *
 * The Temporal SDK (~0.3 s to load) is imported inside the actions, so commands that never talk to a server
 * (`job`, `run`, `state`, ...) start without it.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { CliContext } from './context';
import { loadConnection, loadSync, loadTemporalClient, loadWorker } from './lazy';
import type { TemporalConnection } from '../server/connection';
import { findJob, findSchedule } from '../config/project';
import type { Project } from '../config/project';
import { projectKeyOf, syncReportLines } from '../schedules/sync-report';
import { scheduleIdFor, workflowIdBaseFor } from '../schedules/compile';
import { PIPELINE_WORKFLOW_TYPE } from '../shared/pipeline';
import type { PipelineInput, PipelineProgress, PipelineResult } from '../shared/pipeline';
import { FloeJob, FloeSchedule, FloeTrigger, FloeEnvironment } from '../shared/search-attributes';
import { RuntimeError, UserError } from '../shared/errors';
import { taskQueueFrom } from '../server/task-queue';
import { listRuns, showRun } from './runs-data';

async function withTemporal<T>(ctx: CliContext, fn: (t: TemporalConnection) => Promise<T>): Promise<T> {
  const { connectFromEnv } = loadConnection();
  const t = await connectFromEnv({ env: ctx.io.env });
  try {
    return await fn(t);
  } finally {
    await t.connection.close();
  }
}

/** Syncs and prints a one-line summary (used by `schedule sync`, `worker` and `up`). */
export async function syncAndReport(ctx: CliContext, client: Client, project: Project, json = false): Promise<void> {
  const { syncSchedules } = loadSync();
  const result = await syncSchedules(client, project, {
    taskQueue: taskQueueFrom(ctx.io.env),
    projectKey: projectKeyOf(project, ctx.io.env),
  });
  if (json) ctx.json(result);
  else syncReportLines(result).forEach((line) => ctx.out(line));
}

function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UserError(`--env '${p}' is not KEY=VALUE; write it like --env TAP_X_START_DATE=2026-01-01.`);
    env[p.slice(0, i)] = p.slice(i + 1);
  }
  return env;
}

/** Follows a run until it ends, printing progress lines; returns the exit code (0 succeeded, 1 otherwise). */
async function follow(ctx: CliContext, handle: WorkflowHandle, json: boolean): Promise<number> {
  let last = '';
  const timer = setInterval(() => {
    handle
      .query<PipelineProgress>('progress')
      .then((p) => {
        // Only blocks in progress: the end of the run is reported once, below, from its result.
        if (p.phase !== 'running' || !p.currentBlock) return;
        const line = `running ${p.currentBlock} (${(p.blockIndex ?? 0) + 1}/${p.blockCount ?? '?'}), ${p.blocks.filter((b) => b.status === 'succeeded').length} done`;
        if (line !== last && !json) ctx.warn(line);
        last = line;
      })
      .catch(() => undefined);
  }, 1000);
  try {
    const result = (await handle.result()) as PipelineResult;
    if (json) ctx.json({ workflowId: handle.workflowId, ...result });
    else {
      for (const b of result.blocks) {
        const streams = Object.entries(b.streams ?? {})
          .map(([s, c]) => `${s}=${c.records}`)
          .join(' ');
        ctx.out(
          `${b.status.padEnd(9)} ${b.block}${b.records !== undefined ? `  ${b.records} records` : ''}${streams ? ` (${streams})` : ''}`,
        );
      }
      ctx.out(`Run ${handle.workflowId} succeeded in ${(result.durationMs / 1000).toFixed(1)} s.`);
    }
    return 0;
  } catch (err) {
    const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    if (json) ctx.json({ workflowId: handle.workflowId, status: 'failed', error: message });
    throw new RuntimeError(`Run ${handle.workflowId} failed: ${message}`);
  } finally {
    clearInterval(timer);
  }
}

interface TriggerOpts {
  disableRetry?: boolean;
  fullRefresh?: boolean;
  env: string[];
  wait?: boolean;
  environment?: string;
  force?: boolean;
}

async function trigger(ctx: CliContext, name: string, opts: TriggerOpts, cmd: Command): Promise<number> {
  const project = ctx.loadProject();
  const schedule = findSchedule(project, name);
  const job = schedule ? undefined : findJob(project, name);
  if (!schedule && !job) {
    throw new UserError(
      `'${name}' is neither a schedule nor a job in meltano.yml (schedules: ${project.schedules.map((s) => s.name).join(', ') || 'none'}; jobs: ${project.jobs.map((j) => j.name).join(', ') || 'none'}).`,
    );
  }
  const environment = opts.environment ?? project.defaultEnvironment;
  const input: PipelineInput = {
    trigger: 'manual',
    ...(schedule ? { schedule: schedule.name, ...(schedule.job ? { job: schedule.job } : {}) } : { job: job?.name }),
    ...(environment ? { environment } : {}),
    ...(opts.fullRefresh || opts.force ? { flags: { fullRefresh: opts.fullRefresh, force: opts.force } } : {}),
    ...(opts.env.length ? { env: parseEnvPairs(opts.env) } : {}),
    ...(opts.disableRetry ? { disableRetry: true } : {}),
  };
  const base = schedule ? workflowIdBaseFor(schedule) : `meltano_job_${job?.name}`;
  // Milliseconds, like the microseconds of Airflow's `manual__<time>` run IDs: two triggers in one second
  // (a script, or a run that fails fast and is triggered again) must not collide.
  const workflowId = `${base}-manual-${new Date().toISOString()}`;
  const code = await withTemporal(ctx, async ({ client }) => {
    if (schedule && (schedule.floe.overlap ?? 'skip') === 'skip') {
      // The schedule's SKIP policy, applied to manual runs too: refuse while one of its runs is going.
      for await (const running of client.workflow.list({
        // Scoped to this project's task queue: another project's schedule of the same name is not an overlap.
        query: `WorkflowType = '${PIPELINE_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueueFrom(ctx.io.env)}' AND ${FloeSchedule.name} = '${schedule.name}' AND ExecutionStatus = 'Running'`,
      })) {
        throw new UserError(
          `Schedule '${schedule.name}' already has a run in progress (${running.workflowId}) and its overlap policy is skip; wait for it or cancel it.`,
        );
      }
    }
    let handle: WorkflowHandleWithFirstExecutionRunId;
    try {
      handle = await client.workflow.start(PIPELINE_WORKFLOW_TYPE, {
        taskQueue: taskQueueFrom(ctx.io.env),
        workflowId,
        args: [input],
        memo: {
          trigger: 'manual',
          ...(schedule ? { schedule: schedule.name } : {}),
          ...(input.job ? { job: input.job } : {}),
        },
        typedSearchAttributes: [
          { key: FloeTrigger, value: 'manual' },
          ...(schedule ? [{ key: FloeSchedule, value: schedule.name }] : []),
          ...(input.job ? [{ key: FloeJob, value: input.job }] : []),
          ...(environment ? [{ key: FloeEnvironment, value: environment }] : []),
        ],
        staticSummary: `Manual run of ${schedule ? `schedule '${schedule.name}'` : `job '${input.job}'`}`,
      });
    } catch (err) {
      const { WorkflowExecutionAlreadyStartedError } = loadTemporalClient();
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new UserError(`A run with ID ${workflowId} already exists; trigger again.`);
      }
      throw err;
    }
    const json = ctx.format(cmd) === 'json';
    if (!opts.wait) {
      if (json) ctx.json({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
      else
        ctx.out(`Started ${handle.workflowId}. Follow it with 'floe runs show ${handle.workflowId}' or in the Web UI.`);
      return 0;
    }
    return follow(ctx, handle, json);
  });
  return code;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description('Run a Temporal worker for this project (syncs schedules at start).')
    .option('--no-sync', 'do not sync schedules at start')
    .option('--task-queue <queue>', 'task queue (default FLOE_TASK_QUEUE or floe)')
    .option('--max-concurrent-blocks <n>', 'block activities run at once', (v) => Number(v), 4)
    .action(async (opts: { sync: boolean; taskQueue?: string; maxConcurrentBlocks: number }) => {
      const project = ctx.loadProject();
      const { connectionSettingsFromEnv } = loadConnection();
      const { runWorker } = loadWorker();
      const { tls, apiKey, metadata } = connectionSettingsFromEnv(ctx.io.env);
      await withTemporal(ctx, async (t) => {
        await runWorker({
          projectRoot: project.root,
          address: t.address,
          namespace: t.namespace,
          client: t.client,
          // The worker's own connection uses the same TLS / API key as the client.
          connectionOptions: { tls, apiKey, metadata },
          taskQueue: opts.taskQueue,
          sync: opts.sync,
          maxConcurrentActivities: opts.maxConcurrentBlocks,
          onSync: (r) => syncReportLines(r).forEach((line) => ctx.warn(line)),
          onReady: () =>
            ctx.warn(
              `Worker polling task queue '${opts.taskQueue ?? taskQueueFrom(ctx.io.env)}' on ${t.address} (namespace ${t.namespace}).`,
            ),
        });
      });
    });

  const schedule = program.commands.find((c) => c.name() === 'schedule') ?? program.command('schedule');
  schedule
    .command('sync')
    .description("Create, update and delete the Temporal Schedules of meltano.yml's schedules.")
    .action(async (_o: unknown, cmd: Command) => {
      const project = ctx.loadProject();
      await withTemporal(ctx, ({ client }) => syncAndReport(ctx, client, project, ctx.format(cmd) === 'json'));
    });
  schedule
    .command('describe <name>')
    .description('Show the Temporal Schedule of a meltano.yml schedule: state, next and recent runs.')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withTemporal(ctx, async ({ client }) => {
        const d = await client.schedule.getHandle(scheduleIdFor(name)).describe();
        const view = {
          scheduleId: d.scheduleId,
          paused: d.state.paused,
          // The server answers '' for "no note".
          ...(d.state.note ? { note: d.state.note } : {}),
          nextRuns: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
          recentRuns: d.info.recentActions.map((a) => ({
            scheduledAt: a.scheduledAt.toISOString(),
            workflowId: a.action.workflow.workflowId,
          })),
          running: d.info.runningActions.map((a) => a.workflow.workflowId),
          overlap: d.policies.overlap,
          catchupWindowMs: d.policies.catchupWindow,
          pauseOnFailure: d.policies.pauseOnFailure,
        };
        if (ctx.format(cmd) === 'json') ctx.json(view);
        else
          for (const [k, v] of Object.entries(view))
            ctx.out(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      });
    });
  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(`${verb} <name>`)
      .description(`${verb === 'pause' ? 'Pause' : 'Unpause'} a schedule on the Temporal server.`)
      .option('--note <text>', 'why')
      .action(async (name: string, o: { note?: string }) => {
        await withTemporal(ctx, async ({ client }) => {
          const h = client.schedule.getHandle(scheduleIdFor(name));
          await (verb === 'pause' ? h.pause(o.note ?? 'Paused with floe') : h.unpause(o.note ?? 'Unpaused with floe'));
          ctx.out(`Schedule '${name}' ${verb}d.`);
        });
      });
  }
  schedule
    .command('backfill <name>')
    .description(
      'Run a schedule once for every fire time between --from and --to, in order; each run gets its interval in FLOE_DATA_INTERVAL_START/END.',
    )
    .requiredOption('--from <time>', 'start (ISO 8601)')
    .requiredOption('--to <time>', 'end (ISO 8601)')
    .action(async (name: string, o: { from: string; to: string }) => {
      const start = new Date(o.from);
      const end = new Date(o.to);
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) {
        throw new UserError(`--from '${o.from}' and --to '${o.to}' must be ISO 8601 times with --from before --to.`);
      }
      await withTemporal(ctx, async ({ client }) => {
        // BUFFER_ALL: every interval of the backfill runs, one after the other (SKIP would drop all but the first).
        await client.schedule.getHandle(scheduleIdFor(name)).backfill({ start, end, overlap: 'BUFFER_ALL' });
        ctx.out(`Backfill of '${name}' from ${start.toISOString()} to ${end.toISOString()} requested.`);
      });
    });

  program
    .command('trigger <name>')
    .description('Start a run of a schedule or job now (like `airflow dags trigger`).')
    .option('--disable-retry', 'one attempt per block')
    .option('--full-refresh', 'ignore saved state')
    .option('--force', 'run even if another run holds the state ID')
    .option(
      '--env <KEY=VALUE>',
      'extra env for every plugin (repeatable; visible in the run history)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--environment <name>', 'Meltano environment (default: default_environment)')
    .option('--wait', 'follow the run and exit with its result')
    .action(async (name: string, opts: TriggerOpts, cmd: Command) => {
      await trigger(ctx, name, opts, cmd);
    });

  const runs = program
    .command('runs')
    .description('Run history from Temporal (newest first).')
    .option('--schedule <name>')
    .option('--job <name>')
    .addOption(
      new Option('--status <status>').choices([
        'running',
        'completed',
        'failed',
        'canceled',
        'terminated',
        'timed_out',
      ]),
    )
    .option('--limit <n>', 'at most this many', (v) => Number(v), 20)
    .action(async (o: { schedule?: string; job?: string; status?: string; limit: number }, cmd: Command) => {
      await withTemporal(ctx, async ({ client }) =>
        listRuns(ctx, client, { ...o, taskQueue: taskQueueFrom(ctx.io.env) }, ctx.format(cmd) === 'json'),
      );
    });
  runs
    .command('show <workflowId>')
    .description('One run: blocks, attempts, records per stream, errors, live progress.')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withTemporal(ctx, async ({ client }) => showRun(ctx, client, id, ctx.format(cmd) === 'json'));
    });
}
