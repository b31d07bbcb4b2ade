/**
 * `floe schedule add|set|list|remove`: Meltano's `meltano schedule` (flags, messages, v4 JSON shape;
 * meltano.md §3.2), plus floe's options written under the schedule's `annotations.floe`.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliContext } from './context';
import { loadConnection } from './lazy';
import { syncAndReport } from './orchestrate';
import type { TemporalConnection } from '../server/connection';
import { rawTasksOf } from './job';
import { formatTable } from './output';
import { appendEntry, editProjectFile, removeEntry, updateEntry } from '../config/edit';
import { OVERLAP_POLICIES, isValidTimezone, parseDuration } from '../config/floe-annotations';
import { findJob, findPlugin, findSchedule } from '../config/project';
import type { Project, ScheduleDef } from '../config/project';
import { ACCEPTED_INTERVALS_HINT, INTERVAL_ALIASES, IntervalError, parseInterval } from '../schedules/interval';
import { UserError } from '../shared/errors';

const TRANSFORMS = ['skip', 'only', 'run'] as const;

interface FloeOptions {
  timezone?: string;
  jitter?: string;
  overlap?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
}

interface ScheduleOptions extends FloeOptions {
  interval?: string;
  job?: string;
  extractor?: string;
  loader?: string;
  transform?: (typeof TRANSFORMS)[number];
}

type ScheduleChange = 'added' | 'updated' | 'removed';

/**
 * Runs after meltano.yml has been written by `schedule add|set|remove`. The Temporal sync is wired in here.
 * @throws whatever the sync throws (the file change is already saved).
 */
export async function afterScheduleChange(
  ctx: CliContext,
  project: Project,
  change: { schedule: string; action: ScheduleChange },
): Promise<void> {
  const verb = change.action === 'removed' ? 'removed from' : 'saved to';
  // Sync at once when a server answers quickly; otherwise the next worker start (or `floe schedule sync`) does.
  let t: TemporalConnection | undefined;
  const { connectFromEnv } = loadConnection();
  try {
    t = await connectFromEnv({ env: ctx.io.env, connectTimeoutMs: 1500 });
  } catch {
    ctx.out(
      `Schedule '${change.schedule}' ${verb} meltano.yml; no Temporal server answered, so it will be synced when a worker starts (or run \`floe schedule sync\`).`,
    );
    return;
  }
  try {
    ctx.out(`Schedule '${change.schedule}' ${verb} meltano.yml.`);
    await syncAndReport(ctx, t.client, project);
  } finally {
    await t.connection.close();
  }
}

/** Meltano's `cron_interval`: the alias expanded, the cron itself, or null for @once/@manual/@none. */
export function cronIntervalOf(interval: string): string | null {
  return Object.hasOwn(INTERVAL_ALIASES, interval) ? (INTERVAL_ALIASES[interval] ?? null) : interval;
}

/** One entry of `schedule list --format json`, Meltano v4's shape. */
export function scheduleJson(project: Project, s: ScheduleDef): Record<string, unknown> {
  if (s.job !== undefined) {
    const job = findJob(project, s.job);
    return {
      name: s.name,
      interval: s.interval,
      cron_interval: cronIntervalOf(s.interval),
      env: s.env,
      job: { name: s.job, tasks: job ? rawTasksOf(project, job) : [] },
    };
  }
  const transform = s.transform ?? 'skip';
  return {
    name: s.name,
    extractor: s.extractor,
    loader: s.loader,
    transform,
    interval: s.interval,
    env: s.env,
    cron_interval: cronIntervalOf(s.interval),
    // floe keeps no run history in meltano.yml; runs live in Temporal (`floe runs`).
    last_successful_run_ended_at: null,
    elt_args: [s.extractor, s.loader, `--transform=${transform}`, `--state-id=${s.name}`],
  };
}

function floeSummary(s: ScheduleDef): string {
  const parts = Object.entries(s.floe)
    .filter(([k]) => k !== 'note' && k !== 'retry')
    .map(([k, v]) => (v === true ? k : `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`));
  return parts.join(' ') || '-';
}

function checkInterval(name: string, interval: string): void {
  try {
    parseInterval(interval);
  } catch (err) {
    if (!(err instanceof IntervalError)) throw err;
    const what = err.message.startsWith("'") ? err.message : `'${interval}' is not valid (${err.message})`;
    throw new UserError(`Schedule '${name}' has an invalid --interval: ${what}. ${ACCEPTED_INTERVALS_HINT}.`);
  }
}

function checkReferences(project: Project, o: ScheduleOptions): void {
  if (o.job !== undefined && !findJob(project, o.job)) {
    const defined = project.jobs.map((j) => j.name).join(', ') || 'none';
    throw new UserError(
      `Job '${o.job}' does not exist (defined jobs: ${defined}); add it with 'floe job add ${o.job} --tasks "..."' or fix the name.`,
    );
  }
  for (const [key, type] of [
    ['extractor', 'extractors'],
    ['loader', 'loaders'],
  ] as const) {
    const name = o[key];
    if (name !== undefined && !findPlugin(project, name, type)) {
      const defined = project.plugins.filter((p) => p.type === type).map((p) => p.name);
      throw new UserError(
        `${key === 'extractor' ? 'Extractor' : 'Loader'} '${name}' is not defined under plugins.${type} (defined: ${defined.join(', ') || 'none'}); add the plugin or fix the name.`,
      );
    }
  }
}

/**
 * `annotations.floe` keys for the given options; for `set`, an empty string removes a key.
 * @throws UserError for a duration or time zone that is not valid.
 */
function floeChanges(o: FloeOptions, forSet: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const text = (key: string, value: string | undefined, check?: (v: string) => string | undefined) => {
    if (value === undefined) return;
    if (value === '') {
      if (forSet) out[key] = undefined;
      return;
    }
    const problem = check?.(value);
    if (problem) throw new UserError(problem);
    out[key] = value;
  };
  const duration = (flag: string) => (v: string) =>
    parseDuration(v) === undefined
      ? `${flag} '${v}' is not a duration; use a number with a unit such as '30s', '5m', '2h' or '1d' (units ms, s, m, h, d).`
      : undefined;
  text('timezone', o.timezone, (v) =>
    isValidTimezone(v)
      ? undefined
      : `--timezone '${v}' is not an IANA time zone; use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York'.`,
  );
  text('jitter', o.jitter, duration('--jitter'));
  text('overlap', o.overlap);
  text('catchup_window', o.catchupWindow, duration('--catchup-window'));
  if (o.pauseOnFailure !== undefined) out.pause_on_failure = o.pauseOnFailure;
  if (o.paused !== undefined) out.paused = o.paused;
  text('note', o.note);
  return out;
}

const MIX_MESSAGE =
  'Cannot mix --job with --extractor/--loader/--transform: a schedule runs either a job (--job) or an extractor and a loader (--extractor, --loader, --transform).';

function addFloeOptions(cmd: Command, forSet: boolean): Command {
  const clear = forSet ? " ('' removes it)" : '';
  return cmd
    .option('--timezone <zone>', `IANA time zone the interval is evaluated in (default UTC)${clear}`)
    .option('--jitter <duration>', `random delay of each run, up to this long, e.g. 30s${clear}`)
    .addOption(
      new Option('--overlap <policy>', 'what to do when a run is still going at the next time').choices(
        OVERLAP_POLICIES,
      ),
    )
    .option('--catchup-window <duration>', `how late a missed run may still start, e.g. 1h${clear}`)
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--no-pause-on-failure', 'do not pause the schedule when a run fails')
    .option('--paused', 'create or keep the schedule paused')
    .option('--no-paused', 'unpause the schedule')
    .option('--note <text>', `a note shown with the schedule in Temporal${clear}`);
}

export function register(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('Manage schedules: a job (or an extractor and loader) run at an interval, synced to Temporal.');

  addFloeOptions(
    schedule
      .command('add')
      .description('Add a new schedule.')
      .argument('<name>', 'schedule name')
      .requiredOption('--interval <interval>', `a 5-field cron or one of ${Object.keys(INTERVAL_ALIASES).join(', ')}`)
      .option('--job <job>', 'the job to run')
      .option('--extractor <extractor>', 'extractor to run (legacy schedules without a job)')
      .option('--loader <loader>', 'loader to run (legacy schedules without a job)')
      .addOption(new Option('--transform <transform>', 'transform flag (legacy schedules)').choices(TRANSFORMS)),
    false,
  ).action(async (name: string, o: ScheduleOptions & { interval: string }) => {
    const project = ctx.loadProject();
    if (o.job !== undefined && (o.extractor ?? o.loader ?? o.transform) !== undefined) throw new UserError(MIX_MESSAGE);
    if (o.job === undefined && (o.extractor === undefined || o.loader === undefined)) {
      const missing = o.extractor === undefined ? '--extractor' : '--loader';
      throw new UserError(
        `Missing ${missing}: schedule '${name}' needs --job <job>, or --extractor <extractor> and --loader <loader>.`,
      );
    }
    if (findSchedule(project, name)) {
      throw new UserError(
        `Schedule '${name}' already exists; change it with 'floe schedule set ${name} ...' or choose another name.`,
      );
    }
    checkInterval(name, o.interval);
    checkReferences(project, o);
    const floe = floeChanges(o, false);
    const annotations = Object.keys(floe).length > 0 ? { annotations: { floe } } : {};
    const entry =
      o.job !== undefined
        ? { name, interval: o.interval, job: o.job, ...annotations }
        : {
            name,
            extractor: o.extractor,
            loader: o.loader,
            transform: o.transform ?? 'skip',
            interval: o.interval,
            ...annotations,
          };
    const { project: saved } = editProjectFile(ctx.root, (text) => appendEntry(text, 'schedules', entry));
    ctx.out(`Scheduled ${o.job !== undefined ? 'job' : 'elt'} '${name}' at ${o.interval}`);
    await afterScheduleChange(ctx, saved, { schedule: name, action: 'added' });
  });

  addFloeOptions(
    schedule
      .command('set')
      .description('Update a schedule.')
      .argument('<name>', 'schedule name')
      .option('--interval <interval>', 'the new interval')
      .option('--job <job>', 'the job to run (job schedules)')
      .option('--extractor <extractor>', 'the extractor (legacy schedules)')
      .option('--loader <loader>', 'the loader (legacy schedules)')
      .addOption(new Option('--transform <transform>', 'transform flag (legacy schedules)').choices(TRANSFORMS)),
    true,
  ).action(async (name: string, o: ScheduleOptions) => {
    const project = ctx.loadProject();
    const current = findSchedule(project, name);
    if (!current) {
      throw new UserError(`Schedule '${name}' does not exist. Run 'floe schedule list' to see the schedules.`);
    }
    const elt = (o.extractor ?? o.loader ?? o.transform) !== undefined;
    if (o.job !== undefined && elt) throw new UserError(MIX_MESSAGE);
    if (current.job !== undefined && elt) {
      throw new UserError(
        `Schedule '${name}' runs job '${current.job}', so it takes --job, not --extractor/--loader/--transform.`,
      );
    }
    if (current.job === undefined && o.job !== undefined) {
      throw new UserError(
        `Schedule '${name}' runs extractor '${current.extractor}' and loader '${current.loader}', so it takes --extractor/--loader/--transform, not --job.`,
      );
    }
    if (o.interval !== undefined) checkInterval(name, o.interval);
    checkReferences(project, o);
    const set: Record<string, unknown> = {};
    for (const key of ['interval', 'job', 'extractor', 'loader', 'transform'] as const) {
      if (o[key] !== undefined) set[key] = o[key];
    }
    const floe = floeChanges(o, true);
    if (Object.keys(set).length === 0 && Object.keys(floe).length === 0) {
      throw new UserError(
        `Nothing to change for schedule '${name}': give --interval, --job, --extractor, --loader, --transform or a floe option (see 'floe schedule set --help').`,
      );
    }
    const { project: saved } = editProjectFile(ctx.root, (text) => updateEntry(text, 'schedules', name, { set, floe }));
    ctx.out(`Updated schedule '${name}'`);
    await afterScheduleChange(ctx, saved, { schedule: name, action: 'updated' });
  });

  schedule
    .command('list')
    .description('List the schedules.')
    .action((_opts: unknown, cmd: Command) => {
      const project = ctx.loadProject();
      if (ctx.format(cmd) === 'json') {
        const job = project.schedules.filter((s) => s.job !== undefined).map((s) => scheduleJson(project, s));
        const elt = project.schedules.filter((s) => s.job === undefined).map((s) => scheduleJson(project, s));
        ctx.json({ schedules: { job, elt } });
        return;
      }
      if (project.schedules.length === 0) {
        ctx.out("No schedules in meltano.yml. Add one with 'floe schedule add <name> --job <job> --interval @daily'.");
        return;
      }
      const rows = project.schedules.map((s) => [
        s.name,
        s.interval,
        cronIntervalOf(s.interval) ?? 'manual only',
        s.job !== undefined ? `job ${s.job}` : `${s.extractor} -> ${s.loader} (transform ${s.transform ?? 'skip'})`,
        floeSummary(s),
      ]);
      for (const line of formatTable(['NAME', 'INTERVAL', 'CRON', 'RUNS', 'FLOE'], rows)) ctx.out(line);
    });

  schedule
    .command('remove')
    .description('Remove a schedule.')
    .argument('<name>', 'schedule name')
    .action(async (name: string) => {
      const project = ctx.loadProject();
      if (!findSchedule(project, name)) {
        throw new UserError(`Schedule '${name}' does not exist. Run 'floe schedule list' to see the schedules.`);
      }
      const { project: saved } = editProjectFile(ctx.root, (text) => removeEntry(text, 'schedules', name));
      ctx.out(`Removed schedule '${name}'.`);
      await afterScheduleChange(ctx, saved, { schedule: name, action: 'removed' });
    });
}
