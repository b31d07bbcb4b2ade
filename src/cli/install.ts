/**
 * `floe install [names...]`: Meltano's `meltano install` (meltano.md §3.6): one venv per plugin under
 * `.meltano/<type>/<name>/venv`, skipped when its fingerprint is unchanged; exit 1 when any plugin failed.
 * `--schedule <name>` installs only the plugins that schedule runs. The project's `venv.backend` (or
 * MELTANO_VENV_BACKEND) picks the installer: `virtualenv` = `python -m venv` + pip, `uv` = uv (required);
 * unset = uv when found, else pip (floe's default, where Meltano's is virtualenv: uv is much faster and makes
 * the same venv layout).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from './context';
import { formatDuration } from './progress';
import { findJob, findSchedule } from '../config/project';
import type { PluginDef, Project } from '../config/project';
import { assertInstalled, installPlugins } from '../plugins/install';
import { PLUGIN_TYPES, pluginTypeSingular } from '../plugins/types';
import type { InstallablePlugin, InstallResult, PluginType } from '../plugins/types';
import { UserError } from '../shared/errors';

interface InstallCliOptions {
  pluginType?: PluginType;
  clean?: boolean;
  parallelism?: string;
  force?: boolean;
  verbose?: boolean;
  schedule?: string;
}

/**
 * The plugin names a schedule runs: its job's blocks (mappings as their mapper), or its extractor and loader.
 * @throws UserError when the schedule (or its job) is not defined.
 */
export function schedulePluginNames(project: Project, name: string): string[] {
  const schedule = findSchedule(project, name);
  if (!schedule) {
    throw new UserError(
      `Schedule '${name}' is not defined in meltano.yml (defined: ${project.schedules.map((s) => s.name).join(', ') || 'none'}); check the name with 'floe schedule list'.`,
    );
  }
  if (schedule.job === undefined) return [schedule.extractor, schedule.loader].filter((n) => n !== undefined);
  const job = findJob(project, schedule.job);
  if (!job) {
    throw new UserError(
      `Schedule '${name}' runs job '${schedule.job}', which is not defined in meltano.yml; add the job or fix the schedule.`,
    );
  }
  const names = job.blocks
    .flat()
    .flatMap((b) => (b.kind === 'command' ? [b.plugin] : [b.extractor, ...b.mappers.map((m) => m.plugin), b.loader]));
  return [...new Set(names)];
}

/**
 * Meltano's `venv.backend` from MELTANO_VENV_BACKEND or meltano.yml; undefined when unset.
 * @throws UserError for a value other than virtualenv or uv.
 */
export function venvBackend(project: Project, env: NodeJS.ProcessEnv): 'virtualenv' | 'uv' | undefined {
  const fromEnv = env.MELTANO_VENV_BACKEND || undefined;
  const value = fromEnv ?? project.raw.venv?.backend;
  if (value === undefined) return undefined;
  if (value !== 'virtualenv' && value !== 'uv') {
    throw new UserError(`MELTANO_VENV_BACKEND '${value}' is not a venv backend; use virtualenv or uv.`);
  }
  return value;
}

/** The installable form of a plugin definition; the venv is named after `venvName` (shared by inheritors). */
export function toInstallable(def: PluginDef): InstallablePlugin {
  const supported = def.extras.supported_python_versions;
  return {
    type: def.type,
    name: def.venvName,
    ...(def.pipUrl !== undefined ? { pipUrl: def.pipUrl } : {}),
    executable: def.executable,
    ...(def.python !== undefined ? { python: def.python } : {}),
    ...(Array.isArray(supported) ? { supportedPythonVersions: supported.map(String) } : {}),
  };
}

/**
 * The plugins to install: all, those of one type, or those named; one entry per venv.
 * @throws UserError for a name that is not a plugin in meltano.yml (of that type, when given).
 */
export function selectPlugins(project: Project, names: string[], type?: PluginType): InstallablePlugin[] {
  const candidates = project.plugins.filter((p) => type === undefined || p.type === type);
  for (const name of names) {
    if (!candidates.some((p) => p.name === name)) {
      const where = type === undefined ? '' : ` of type '${type}'`;
      throw new UserError(
        `Plugin '${name}'${where} is not defined in meltano.yml (defined: ${candidates.map((p) => p.name).join(', ') || 'none'}); check the name or add the plugin first.`,
      );
    }
  }
  const chosen = names.length === 0 ? candidates : candidates.filter((p) => names.includes(p.name));
  const byVenv = new Map<string, InstallablePlugin>();
  for (const def of chosen) {
    const key = `${def.type}/${def.venvName}`;
    if (!byVenv.has(key)) byVenv.set(key, toInstallable(def));
  }
  return [...byVenv.values()];
}

function resultLine(r: InstallResult): string {
  const what = `${pluginTypeSingular(r.type)} '${r.name}'`;
  const took = formatDuration(r.durationMs);
  switch (r.status) {
    case 'installed':
      return `Installed ${what} in ${took}${r.note ? ` (${r.note})` : ''}`;
    case 'up to date':
      return `Skipped ${what}: up to date`;
    case 'skipped':
      return `Skipped ${what}: ${r.note ?? 'nothing to install'}`;
    case 'failed':
      return `Failed to install ${what} after ${took}`;
  }
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('install')
    .description("Install the project's plugins, each into its own venv (skipped when unchanged).")
    .argument('[names...]', 'only these plugins')
    .addOption(new Option('--plugin-type <type>', 'only plugins of this type').choices(PLUGIN_TYPES))
    .option('--clean', 'reinstall from scratch even when up to date')
    .option('-p, --parallelism <n>', 'how many plugins install at once', '2')
    .option('-f, --force', "ignore the plugins' supported_python_versions")
    .option('-s, --schedule <name>', "only the plugins this schedule's job (or extractor and loader) uses")
    .option('--verbose', "print the installer's output on stderr")
    .action(async (names: string[], opts: InstallCliOptions, cmd: Command) => {
      const project = ctx.loadProject();
      const parallelism = Number(opts.parallelism);
      if (!Number.isInteger(parallelism) || parallelism < 1) {
        throw new UserError(`--parallelism '${opts.parallelism}' is not a whole number of at least 1; use e.g. -p 2.`);
      }
      if (opts.schedule !== undefined && names.length > 0) {
        throw new UserError(
          `Give plugin names or --schedule '${opts.schedule}', not both; --schedule installs exactly the plugins the schedule uses.`,
        );
      }
      const chosen = opts.schedule !== undefined ? schedulePluginNames(project, opts.schedule) : names;
      const backend = venvBackend(project, ctx.io.env);
      const plugins = selectPlugins(project, chosen, opts.pluginType);
      const json = ctx.format(cmd) === 'json';
      if (!json) ctx.out(`Installing ${plugins.length} plugin(s)...`);
      const results = await installPlugins(plugins, {
        projectRoot: project.root,
        clean: opts.clean === true,
        force: opts.force === true,
        parallelism,
        env: ctx.io.env,
        ...(backend ? { backend } : {}),
        onLog: (p, line) => {
          if (opts.verbose) ctx.warn(`${p.name} | ${line}`);
        },
      });
      if (json) {
        ctx.json(
          results.map((r) => ({
            type: r.type,
            name: r.name,
            status: r.status,
            duration_ms: r.durationMs,
            ...(r.venvDir ? { venv: r.venvDir } : {}),
            ...(r.note ? { note: r.note } : {}),
            ...(r.error ? { error: r.error.message } : {}),
          })),
        );
      } else {
        for (const r of results) ctx.out(resultLine(r));
      }
      assertInstalled(results);
    });
}
