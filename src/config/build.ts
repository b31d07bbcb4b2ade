/**
 * From validated raw files to the Project model, with the semantic checks a shape check cannot do: unique
 * names, references between schedules, jobs and plugins, task blocks, intervals, `annotations.floe`.
 * Every problem is collected (not just the first) and reported with its file, YAML path and line.
 */
import { checkShapeAt } from './shape-check';
import { ConfigError, formatYamlPath } from './errors';
import type { ConfigProblem, YamlPath } from './errors';
import { FloeJobAnnotations, FloeScheduleAnnotations, isValidTimezone } from './floe-annotations';
import { locate } from './yaml-source';
import type { YamlSource } from './yaml-source';
import { DEFAULT_ELT_BUFFER_SIZE, stringifyEnv } from './project';
import type { EnvironmentDef, JobDef, Origin, PluginCommand, PluginDef, Project, ScheduleDef } from './project';
import { PLUGIN_TYPES } from './schema';
import type { IncludedFile, PluginType, ProjectFile, RawPlugin } from './schema';
import { TaskParseError, parseBlocks, tasksToArgs } from './tasks';
import type { PluginLookup } from './tasks';
import { ACCEPTED_INTERVALS_HINT, IntervalError, parseInterval } from '../schedules/interval';

export interface ValidatedFile {
  source: YamlSource;
  data: ProjectFile | IncludedFile;
}

const GENERIC_KEYS = new Set([
  'name', 'description', 'plugin_type', 'repo', 'ext_repo', 'inherit_from', 'pip_url', 'variant', 'namespace',
  'config', 'label', 'logo_url', 'python', 'executable', 'settings', 'docs', 'settings_group_validation',
  'commands', 'requires', 'requires_meltano', 'supported_python_versions', 'hidden', 'env', 'annotations',
  'capabilities',
]); // prettier-ignore

class Collector {
  readonly problems: ConfigProblem[] = [];
  add(source: YamlSource, path: YamlPath, problem: string, fix?: string): void {
    this.problems.push({ file: source.displayName, path, ...locate(source, path), problem, fix });
  }
}

/** `subconfig.yml at jobs[0]`: where the first of two same-named items is, for duplicate messages. */
function definedAt(origin: Origin): string {
  return `${origin.file} at ${formatYamlPath(origin.path)}`;
}

function toCommands(raw: RawPlugin['commands']): Record<string, PluginCommand> {
  const out: Record<string, PluginCommand> = {};
  for (const [name, c] of Object.entries(raw ?? {})) {
    out[name] =
      typeof c === 'string' ? { args: c } : { args: c.args, executable: c.executable, description: c.description };
  }
  return out;
}

function extrasOf(raw: RawPlugin): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!GENERIC_KEYS.has(k)) extras[k] = v;
  return extras;
}

function buildPlugins(files: ValidatedFile[], c: Collector): PluginDef[] {
  const entries: { type: PluginType; raw: RawPlugin; source: YamlSource; path: YamlPath }[] = [];
  for (const f of files) {
    for (const type of PLUGIN_TYPES) {
      (f.data.plugins?.[type] ?? []).forEach((raw, i) =>
        entries.push({ type, raw, source: f.source, path: ['plugins', type, i] }),
      );
    }
  }
  const seen = new Map<string, (typeof entries)[number]>();
  for (const e of entries) {
    const key = `${e.type}/${e.raw.name}`;
    const first = seen.get(key);
    if (first) {
      c.add(
        e.source,
        [...e.path, 'name'],
        `repeats ${e.type.slice(0, -1)} '${e.raw.name}', already defined in ${definedAt({ file: first.source.displayName, path: first.path })}`,
        'Plugin names must be unique within a plugin type.',
      );
    } else seen.set(key, e);
  }
  const byKey = (type: PluginType, name: string) => seen.get(`${type}/${name}`);
  const resolve = (e: (typeof entries)[number], depth: number): PluginDef | undefined => {
    const raw = e.raw;
    let parent: PluginDef | undefined;
    if (raw.inherit_from !== undefined) {
      const p = byKey(e.type, raw.inherit_from);
      if (!p || depth > 10 || p === e) {
        c.add(
          e.source,
          [...e.path, 'inherit_from'],
          `names '${raw.inherit_from}', which is not another ${e.type.slice(0, -1)} in the project`,
          `Define it under plugins.${e.type} or fix the name.`,
        );
        return undefined;
      }
      parent = resolve(p, depth + 1);
      if (!parent) return undefined;
    }
    const pipUrl = raw.pip_url ?? parent?.pipUrl;
    const def: PluginDef = {
      type: e.type,
      name: raw.name,
      // Meltano (project_plugin.py): an inheriting plugin's default namespace derives from its own name, not the
      // parent's namespace.
      namespace: raw.namespace ?? (parent ? raw.name.replaceAll('-', '_') : raw.name.replace(/[^A-Za-z0-9]/g, '_')),
      variant: raw.variant ?? parent?.variant,
      pipUrl,
      executable: raw.executable ?? parent?.executable ?? raw.name,
      python: raw.python ?? parent?.python,
      inheritFrom: raw.inherit_from,
      venvName: parent && (raw.pip_url === undefined || raw.pip_url === parent.pipUrl) ? parent.venvName : raw.name,
      capabilities: (raw as { capabilities?: string[] }).capabilities ?? parent?.capabilities ?? [],
      settings: [...(parent?.settings ?? []), ...(raw.settings ?? [])],
      config: { ...(parent?.config ?? {}), ...(raw.config ?? {}) },
      env: { ...(parent?.env ?? {}), ...stringifyEnv(raw.env) },
      commands: { ...(parent?.commands ?? {}), ...toCommands(raw.commands) },
      extras: { ...(parent?.extras ?? {}), ...extrasOf(raw) },
      origin: { file: e.source.displayName, path: e.path },
    };
    return def;
  };
  const out: PluginDef[] = [];
  for (const e of seen.values()) {
    const d = resolve(e, 0);
    if (d) out.push(d);
  }
  return out;
}

function lookupFor(plugins: PluginDef[]): PluginLookup {
  const types = new Map<string, PluginType>();
  const mappings = new Map<string, string>();
  for (const p of plugins) if (!types.has(p.name)) types.set(p.name, p.type);
  // An inheriting mapper carries its parent's mappings too; a mapping name means the mapper that declares it.
  const mappers = plugins
    .filter((p) => p.type === 'mappers')
    .sort((a, b) => Number(a.inheritFrom !== undefined) - Number(b.inheritFrom !== undefined));
  for (const p of mappers) {
    for (const m of (p.extras.mappings as { name: string }[] | undefined) ?? []) {
      if (!mappings.has(m.name)) mappings.set(m.name, p.name);
    }
  }
  return {
    typeOf: (n) => types.get(n),
    mapperOfMapping: (n) => mappings.get(n),
    names: () => [...types.keys()],
  };
}

function buildJobs(files: ValidatedFile[], lookup: PluginLookup, c: Collector): JobDef[] {
  const jobs: JobDef[] = [];
  for (const f of files) {
    (f.data.jobs ?? []).forEach((raw, i) => {
      const path: YamlPath = ['jobs', i];
      const firstJob = jobs.find((j) => j.name === raw.name);
      if (firstJob) {
        c.add(
          f.source,
          [...path, 'name'],
          `repeats job '${raw.name}', already defined in ${definedAt(firstJob.origin)}`,
          'Job names must be unique; rename or remove one.',
        );
        return;
      }
      const tasks = tasksToArgs(raw.tasks);
      const blocks = tasks.map((args, t) => {
        try {
          return parseBlocks(args, lookup);
        } catch (err) {
          if (!(err instanceof TaskParseError)) throw err;
          const taskPath: YamlPath = typeof raw.tasks === 'string' ? [...path, 'tasks'] : [...path, 'tasks', t];
          c.add(
            f.source,
            taskPath,
            `'${args.join(' ')}' ${err.message}`,
            'Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.',
          );
          return [];
        }
      });
      const floe = checkShapeAt(
        f.source,
        [...path, 'annotations', 'floe'],
        FloeJobAnnotations,
        raw.annotations?.floe ?? {},
      );
      if (!floe.ok) c.problems.push(...floe.problems);
      jobs.push({
        name: raw.name,
        tasks,
        blocks,
        floe: floe.ok ? floe.data : {},
        origin: { file: f.source.displayName, path },
      });
    });
  }
  return jobs;
}

function buildSchedules(files: ValidatedFile[], plugins: PluginDef[], jobs: JobDef[], c: Collector): ScheduleDef[] {
  const schedules: ScheduleDef[] = [];
  for (const f of files) {
    (f.data.schedules ?? []).forEach((raw, i) => {
      const path: YamlPath = ['schedules', i];
      const before = c.problems.length;
      const firstSchedule = schedules.find((s) => s.name === raw.name);
      if (firstSchedule) {
        c.add(
          f.source,
          [...path, 'name'],
          `repeats schedule '${raw.name}', already defined in ${definedAt(firstSchedule.origin)}`,
          'Schedule names must be unique; rename or remove one.',
        );
      }
      const elt = raw.extractor !== undefined || raw.loader !== undefined || raw.transform !== undefined;
      if (raw.job !== undefined && elt) {
        c.add(
          f.source,
          path,
          `mixes 'job' with 'extractor'/'loader'/'transform'`,
          `A schedule runs either a job (name, job, interval) or an extractor and loader (name, extractor, loader, transform, interval); keep one shape.`,
        );
      } else if (raw.job === undefined && !elt) {
        c.add(
          f.source,
          path,
          `needs 'job' (or the legacy 'extractor' and 'loader')`,
          `Add job: <job name> naming one of the project's jobs.`,
        );
      } else if (raw.job !== undefined) {
        if (!jobs.some((j) => j.name === raw.job)) {
          c.add(
            f.source,
            [...path, 'job'],
            `names job '${raw.job}', which is not defined (defined jobs: ${jobs.map((j) => j.name).join(', ') || 'none'})`,
            `Add it with 'floe job add ${raw.job} --tasks "..."' or fix the name.`,
          );
        }
      } else {
        for (const [key, type] of [
          ['extractor', 'extractors'],
          ['loader', 'loaders'],
        ] as const) {
          const name = raw[key];
          if (name === undefined)
            c.add(
              f.source,
              path,
              `has no '${key}' (a legacy extractor/loader schedule needs both)`,
              `Add ${key}: <plugin name>, or use job: instead.`,
            );
          else if (!plugins.some((p) => p.type === type && p.name === name)) {
            c.add(
              f.source,
              [...path, key],
              `names ${key} '${name}', which is not defined under plugins.${type}`,
              'Add the plugin or fix the name.',
            );
          }
        }
      }
      let parsedInterval;
      try {
        parsedInterval = parseInterval(raw.interval);
      } catch (err) {
        if (!(err instanceof IntervalError)) throw err;
        const msg = err.message.startsWith(`'`)
          ? err.message
          : `'${raw.interval}' is not a valid interval (${err.message})`;
        c.add(f.source, [...path, 'interval'], msg, `${ACCEPTED_INTERVALS_HINT}.`);
      }
      const floe = checkShapeAt(
        f.source,
        [...path, 'annotations', 'floe'],
        FloeScheduleAnnotations,
        raw.annotations?.floe ?? {},
      );
      if (!floe.ok) c.problems.push(...floe.problems);
      else if (floe.data.timezone !== undefined && !isValidTimezone(floe.data.timezone)) {
        c.add(
          f.source,
          [...path, 'annotations', 'floe', 'timezone'],
          `'${floe.data.timezone}' is not an IANA time zone`,
          `Use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York'.`,
        );
      }
      if (c.problems.length > before || !parsedInterval || !floe.ok) return;
      schedules.push({
        name: raw.name,
        interval: raw.interval,
        parsedInterval,
        job: raw.job,
        extractor: raw.extractor,
        loader: raw.loader,
        transform: raw.transform ?? (elt ? 'skip' : undefined),
        env: stringifyEnv(raw.env),
        floe: floe.data,
        origin: { file: f.source.displayName, path },
      });
    });
  }
  return schedules;
}

function buildEnvironments(files: ValidatedFile[], c: Collector): EnvironmentDef[] {
  const envs: EnvironmentDef[] = [];
  for (const f of files) {
    (f.data.environments ?? []).forEach((raw, i) => {
      const path: YamlPath = ['environments', i];
      if (raw.name.includes(':')) {
        c.add(
          f.source,
          [...path, 'name'],
          `'${raw.name}' contains ':', which separates the parts of a state ID`,
          'Rename the environment without a colon.',
        );
      }
      const firstEnv = envs.find((e) => e.name === raw.name);
      if (firstEnv)
        c.add(
          f.source,
          [...path, 'name'],
          `repeats environment '${raw.name}', already defined in ${definedAt(firstEnv.origin)}`,
          'Environment names must be unique.',
        );
      const plugins: EnvironmentDef['plugins'] = {};
      for (const type of PLUGIN_TYPES) {
        for (const p of raw.config?.plugins?.[type] ?? []) {
          const {
            name,
            config,
            env,
            annotations: _a,
            ...extras
          } = p as {
            name: string;
            config?: Record<string, unknown> | null;
            env?: Record<string, string | number | boolean | null>;
            annotations?: unknown;
          } & Record<string, unknown>;
          plugins[`${type}/${name}`] = { config: config ?? {}, env: stringifyEnv(env), extras };
        }
      }
      envs.push({
        name: raw.name,
        env: stringifyEnv(raw.env),
        stateIdSuffix: raw.state_id_suffix,
        plugins,
        origin: { file: f.source.displayName, path },
      });
    });
  }
  return envs;
}

/**
 * Builds the Project from the root file and its included files (already shape-checked).
 * @throws ConfigError with every semantic problem found.
 */
export function buildProject(root: string, file: string, main: ValidatedFile, included: ValidatedFile[]): Project {
  const c = new Collector();
  const files = [main, ...included];
  const raw = main.data as ProjectFile;
  const plugins = buildPlugins(files, c);
  const lookup = lookupFor(plugins);
  const jobs = buildJobs(files, lookup, c);
  const schedules = buildSchedules(files, plugins, jobs, c);
  const environments = buildEnvironments(files, c);
  if (c.problems.length > 0) throw new ConfigError(c.problems);
  const env = stringifyEnv(raw.env);
  for (const f of included) Object.assign(env, stringifyEnv(f.data.env));
  return {
    root,
    file,
    raw,
    projectId: raw.project_id,
    defaultEnvironment: raw.default_environment,
    env,
    plugins,
    jobs,
    schedules,
    environments,
    stateBackend: { uri: raw.state_backend?.uri, lockTimeoutSeconds: raw.state_backend?.lock_timeout_seconds ?? 10 },
    eltBufferSize: raw.elt?.buffer_size ?? DEFAULT_ELT_BUFFER_SIZE,
    includedFiles: included.map((f) => f.source.displayName),
  };
}
