/**
 * Terminology:
 * - plugin type: the plural key under `plugins:` in meltano.yml (`extractors`, `loaders`, ...).
 * - pip_url: the pip arguments that install a plugin (one or more, separated by spaces).
 * - venv: the per-plugin Python virtual environment at `<root>/.meltano/<type>/<name>/venv`, the layout
 *   `meltano install` uses, so a project installed by Meltano runs under floe unchanged.
 * - fingerprint: a hash of the pip arguments (and the interpreter) stored in the venv; equal
 *   fingerprints mean the venv is up to date.
 */

export const PLUGIN_TYPES = [
  'extractors',
  'loaders',
  'mappers',
  'utilities',
  'transformers',
  'orchestrators',
  'files',
  'transforms',
] as const;

export type PluginType = (typeof PLUGIN_TYPES)[number];

/** Singular nouns as Meltano prints them ("Plugin 'tap-x' (extractor) ..."). */
const SINGULAR: Record<PluginType, string> = {
  extractors: 'extractor',
  loaders: 'loader',
  mappers: 'mapper',
  utilities: 'utility',
  transformers: 'transformer',
  orchestrators: 'orchestrator',
  files: 'file',
  transforms: 'transform',
};

export function pluginTypeSingular(type: PluginType): string {
  return SINGULAR[type];
}

/** A plugin whose definition is already resolved (inherit_from, namespace, lock files applied). */
export interface InstallablePlugin {
  type: PluginType;
  name: string;
  /** Absent for custom plugins that run a file in the repository or a program installed elsewhere. */
  pipUrl?: string;
  /** Defaults to the plugin name. A value containing '/' is a path relative to the project root. */
  executable?: string;
  /** Interpreter for the venv: a name on PATH (`python3.11`), a path, or a version uv understands. */
  python?: string;
  /** Meltano's `supported_python_versions` (e.g. ['3.9', '3.10']); checked unless `force`. */
  supportedPythonVersions?: string[];
}

export interface InstallOptions {
  projectRoot: string;
  /** Reinstall even when the fingerprint matches (`meltano install --clean`). */
  clean?: boolean;
  /** How many plugins install at once; default 2 (pip and uv are themselves parallel). */
  parallelism?: number;
  /** Ignore `supportedPythonVersions` (`meltano install --force`). */
  force?: boolean;
  /** Progress lines and the installer's output, one line at a time. */
  onLog?: (plugin: InstallablePlugin, line: string) => void;
  /** Environment used to expand `$VAR` in pip_url and passed to the installer; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Meltano's `venv.backend`: 'virtualenv' always uses `python -m venv` + pip, 'uv' requires uv; unset uses uv
   * when found, else pip.
   */
  backend?: 'virtualenv' | 'uv';
}

export type InstallStatus = 'installed' | 'up to date' | 'skipped' | 'failed';

export interface InstallResult {
  type: PluginType;
  name: string;
  status: InstallStatus;
  /** The venv directory (absent when skipped). */
  venvDir?: string;
  /** Why a plugin was skipped, or which installer was used. */
  note?: string;
  durationMs: number;
  /** Set when status is 'failed'. */
  error?: Error;
}
