/**
 * The domain model of a Meltano project (camelCase), built once from the raw, validated `meltano.yml`
 * (plus included files). Terminology:
 * - extractor: a Singer tap (`plugins.extractors`), loader: a Singer target (`plugins.loaders`).
 * - job: a named list of tasks; a task is a list of blocks run as one unit.
 * - schedule: a job (or legacy extractor+loader pair) plus an interval; floe makes it a Temporal Schedule.
 * - state ID: the key of incremental state, `<environment>:<extractor>-to-<loader>[:suffix]`.
 */
import type { FloeJobAnnotations, FloeScheduleAnnotations } from './floe-annotations';
import type { YamlPath } from './errors';
import type { ParsedInterval } from '../schedules/interval';
import type { PluginType, ProjectFile, SettingDefinition } from './schema';
import type { Block } from './tasks';

/** Where an item was defined, for messages. */
export interface Origin {
  file: string;
  path: YamlPath;
}

export interface PluginCommand {
  args: string;
  executable?: string;
  description?: string;
}

export interface PluginDef {
  type: PluginType;
  name: string;
  namespace: string;
  variant?: string;
  pipUrl?: string;
  /** Executable name or path (default: the plugin's name, or its parent's executable). */
  executable: string;
  python?: string;
  inheritFrom?: string;
  /** Name of the venv under `.meltano/<type>/<venvName>/venv` (an inheriting plugin with the same pip_url shares its parent's). */
  venvName: string;
  capabilities: string[];
  settings: SettingDefinition[];
  /** `config` from meltano.yml (parent's first, then the plugin's own, for inheriting plugins). */
  config: Record<string, unknown>;
  env: Record<string, string>;
  commands: Record<string, PluginCommand>;
  /** Extractor/loader/mapper extras (`select`, `metadata`, `schema`, `select_filter`, `catalog`, `state`, `load_schema`, `use_cached_catalog`, `mappings`, `dialect`, ...). */
  extras: Record<string, unknown>;
  origin: Origin;
}

export interface JobDef {
  name: string;
  /** One argument list per task (Meltano's `flat_args_per_set`). */
  tasks: string[][];
  /** The same tasks parsed into blocks. */
  blocks: Block[][];
  floe: FloeJobAnnotations;
  origin: Origin;
}

export interface ScheduleDef {
  name: string;
  interval: string;
  parsedInterval: ParsedInterval;
  /** Job schedule. */
  job?: string;
  /** Legacy ELT schedule. */
  extractor?: string;
  loader?: string;
  transform?: 'run' | 'skip' | 'only';
  env: Record<string, string>;
  floe: FloeScheduleAnnotations;
  origin: Origin;
}

export interface EnvironmentDef {
  name: string;
  env: Record<string, string>;
  stateIdSuffix?: string;
  /** Per-plugin overrides: config, env and (extractors) extras, keyed by `<type>/<name>`. */
  plugins: Record<
    string,
    { config: Record<string, unknown>; env: Record<string, string>; extras: Record<string, unknown> }
  >;
  origin: Origin;
}

/** Runtime default of `elt.buffer_size` (100 MiB; the schema says 10 MiB, see meltano.md §1.7). */
export const DEFAULT_ELT_BUFFER_SIZE = 104_857_600;

export interface Project {
  root: string;
  /** Absolute path of meltano.yml. */
  file: string;
  /** The root file as validated (included files not merged in). */
  raw: ProjectFile;
  projectId?: string;
  defaultEnvironment?: string;
  env: Record<string, string>;
  plugins: PluginDef[];
  jobs: JobDef[];
  schedules: ScheduleDef[];
  environments: EnvironmentDef[];
  stateBackend: { uri?: string; lockTimeoutSeconds: number };
  eltBufferSize: number;
  /** Files merged through `include_paths`, relative to the root. */
  includedFiles: string[];
}

export function findPlugin(project: Project, name: string, type?: PluginType): PluginDef | undefined {
  return project.plugins.find((p) => p.name === name && (type === undefined || p.type === type));
}

export function findJob(project: Project, name: string): JobDef | undefined {
  return project.jobs.find((j) => j.name === name);
}

export function findSchedule(project: Project, name: string): ScheduleDef | undefined {
  return project.schedules.find((s) => s.name === name);
}

/** Meltano stringifies env values; null becomes the empty string. */
export function stringifyEnv(
  env: Record<string, string | number | boolean | null> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = v === null ? '' : String(v);
  return out;
}
