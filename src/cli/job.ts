/**
 * `floe job add|set|list|remove`: Meltano's `meltano job` (flags, messages, JSON shapes; meltano.md §3.1),
 * editing meltano.yml in place with comments kept.
 */
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CliContext } from './context';
import { pyRepr } from './output';
import { appendEntry, editProjectFile, removeEntry, updateEntry } from '../config/edit';
import { findJob } from '../config/project';
import type { JobDef, Project } from '../config/project';
import type { PluginType } from '../config/schema';
import { TaskParseError, parseBlocks, tasksToArgs } from '../config/tasks';
import type { PluginLookup, RawTasks } from '../config/tasks';
import { UserError } from '../shared/errors';

/** As Meltano stores them: a list of tasks, each a string or a list of strings. */
export type JobTasks = (string | string[])[];

const TASKS_HINT = `Give a string such as 'tap-a target-b' or a YAML list such as '["tap-a target-b", "dbt:run"]'.`;

/**
 * Parses `--tasks` as Meltano does (`tasks_from_yaml_str`): YAML, a string or a list of strings or lists of
 * strings; a single string becomes a one-task list.
 * @throws UserError when the value is not YAML or not of that shape.
 */
export function parseTasksOption(jobName: string, raw: string): JobTasks {
  const prefix = `Job '${jobName}' has invalid tasks.`;
  let value: unknown;
  try {
    value = parseYaml(raw);
  } catch (err) {
    const first = ((err as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`${prefix} --tasks '${raw}' is not valid YAML (${first}). ${TASKS_HINT}`);
  }
  if (typeof value === 'string') value = [value];
  const isStringList = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' || isStringList(t))) {
    throw new UserError(`${prefix} --tasks must be a string or a list of strings or lists of strings. ${TASKS_HINT}`);
  }
  const tasks: JobTasks = value;
  if (tasksToArgs(tasks).every((args) => args.length === 0)) {
    throw new UserError(`${prefix} --tasks is empty. ${TASKS_HINT}`);
  }
  return tasks;
}

function lookupFor(project: Project): PluginLookup {
  const types = new Map<string, PluginType>();
  const mappings = new Map<string, string>();
  for (const p of project.plugins) {
    if (!types.has(p.name)) types.set(p.name, p.type);
    const maps = p.type === 'mappers' ? (p.extras.mappings as { name: string }[] | undefined) : undefined;
    for (const m of maps ?? []) mappings.set(m.name, p.name);
  }
  return { typeOf: (n) => types.get(n), mapperOfMapping: (n) => mappings.get(n), names: () => [...types.keys()] };
}

/**
 * Parses every task into blocks against the project's plugins (Meltano's `_validate_tasks`).
 * @throws UserError naming the first task that does not parse.
 */
export function validateTasks(project: Project, jobName: string, tasks: JobTasks): void {
  const lookup = lookupFor(project);
  for (const args of tasksToArgs(tasks)) {
    try {
      parseBlocks(args, lookup);
    } catch (err) {
      if (!(err instanceof TaskParseError)) throw err;
      throw new UserError(
        `Job '${jobName}' has invalid tasks. Task '${args.join(' ')}' ${err.message}. Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.`,
      );
    }
  }
}

/** The tasks as written in the file (Meltano prints them unchanged); rebuilt from arguments for included files. */
export function rawTasksOf(project: Project, job: JobDef): RawTasks {
  const raw = project.raw.jobs?.find((j) => j.name === job.name);
  return raw ? raw.tasks : job.tasks.map((args) => args.join(' '));
}

function notFound(name: string): UserError {
  return new UserError(`Job '${name}' does not exist in meltano.yml. Run 'floe job list' to see the jobs.`);
}

export function register(program: Command, ctx: CliContext): void {
  const job = program
    .command('job')
    .description('Manage jobs: named lists of tasks, each task a run of blocks such as "tap target dbt:run".')
    .addHelpText(
      'after',
      `
Examples:
  floe job add NAME --tasks 'tap mapper target command:arg1'
  floe job add NAME --tasks '["tap mapper target", "tap2 target2"]'
  floe job add NAME --tasks '[["tap target", "dbt:run"], "tap2 target2"]'
  floe job list --format json`,
    );

  job
    .command('add')
    .description('Add a new job with tasks.')
    .argument('<name>', 'job name')
    .requiredOption('--tasks <yaml>', 'tasks that will be run as part of this job (a string or a YAML list)')
    .action((name: string, opts: { tasks: string }) => {
      const project = ctx.loadProject();
      const tasks = parseTasksOption(name, opts.tasks);
      validateTasks(project, name, tasks);
      if (findJob(project, name)) {
        throw new UserError(
          `Job '${name}' already exists. Change its tasks with 'floe job set ${name} --tasks ...' or choose another name.`,
        );
      }
      editProjectFile(ctx.root, (text) => appendEntry(text, 'jobs', { name, tasks }));
      ctx.out(`Added job ${name}: ${pyRepr(tasks)}`);
    });

  job
    .command('set')
    .description("Update an existing job's tasks.")
    .argument('<name>', 'job name')
    .requiredOption('--tasks <yaml>', 'the new tasks (a string or a YAML list)')
    .action((name: string, opts: { tasks: string }) => {
      const project = ctx.loadProject();
      const tasks = parseTasksOption(name, opts.tasks);
      validateTasks(project, name, tasks);
      if (!findJob(project, name)) {
        // Meltano warns and exits 0 here.
        ctx.warn(`Job '${name}' does not exist.`);
        return;
      }
      editProjectFile(ctx.root, (text) => updateEntry(text, 'jobs', name, { set: { tasks } }));
      ctx.out(`Updated job ${name}: ${pyRepr(tasks)}`);
    });

  job
    .command('list')
    .description('List jobs, or one job.')
    .argument('[name]', 'only this job')
    .action((name: string | undefined, _opts: unknown, cmd: Command) => {
      const project = ctx.loadProject();
      const json = ctx.format(cmd) === 'json';
      const jobs = name === undefined ? project.jobs : project.jobs.filter((j) => j.name === name);
      if (name !== undefined && jobs.length === 0) {
        ctx.warn(`Job '${name}' does not exist.`);
        return;
      }
      const entries = jobs.map((j) => ({ job_name: j.name, tasks: rawTasksOf(project, j) }));
      if (json) ctx.json(name === undefined ? { jobs: entries } : entries[0]);
      else for (const e of entries) ctx.out(`${e.job_name}: ${pyRepr(e.tasks)}`);
    });

  job
    .command('remove')
    .description('Remove a job (refused while a schedule uses it).')
    .argument('<name>', 'job name')
    .action((name: string) => {
      const project = ctx.loadProject();
      if (!findJob(project, name)) throw notFound(name);
      const users = project.schedules.filter((s) => s.job === name).map((s) => s.name);
      const first = users[0];
      if (first !== undefined) {
        const which = users.length === 1 ? `schedule '${first}'` : `schedules ${users.map((u) => `'${u}'`).join(', ')}`;
        throw new UserError(
          `Job '${name}' is used by ${which}; remove the schedule first ('floe schedule remove ${first}') or point it at another job ('floe schedule set ${first} --job <job>').`,
        );
      }
      editProjectFile(ctx.root, (text) => removeEntry(text, 'jobs', name));
      ctx.out(`Removed job '${name}'.`);
    });
}
