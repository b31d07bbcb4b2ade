/**
 * Environment-variable names and `$VAR` expansion as Meltano computes them (`core/utils/__init__.py`:
 * `to_env_var`, `ENV_VAR_PATTERN`, `expand_env_vars`; `setting_definition.py::env_vars`).
 */
import type { PluginType } from './schema';

/** `to_env_var`: upper-case, every char outside `[A-Za-z0-9]` becomes `_`, parts joined by `_` (empty parts skipped). */
export function toEnvVar(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p) => p.replace(/[^A-Za-z0-9]/g, '_').toUpperCase())
    .join('_');
}

/** Meltano's `TRUTHY`: `true`, `1`, `yes`, `on` (case-insensitive); anything else is false. */
export function truthy(value: string): boolean {
  return ['true', '1', 'yes', 'on'].includes(value.toLowerCase());
}

// `\$VAR` / `\${VAR}` is an escape (the backslash is dropped); `${word chars}`; bare `$` needs an upper-case name.
const ENV_VAR_PATTERN = /(\\)?\$(?:\{([\p{L}\p{N}_]+)\}|([A-Z][A-Z0-9_]*))/gu;

/** Expands `$VAR` and `${VAR}` in one string; unset variables become the empty string, as Meltano's default. */
export function expandString(value: string, env: Record<string, string | undefined>): string {
  return value.replace(ENV_VAR_PATTERN, (_m, escape: string | undefined, curly?: string, normal?: string) => {
    const name = (curly ?? normal) as string;
    if (escape) return curly !== undefined ? `\${${name}}` : `$${name}`;
    return env[name] ?? '';
  });
}

/** Expands strings inside objects and arrays too (Meltano's non-flat `expand_env_vars`); other values unchanged. */
export function expandEnvVars<T>(value: T, env: Record<string, string | undefined>): T {
  if (typeof value === 'string') return expandString(value, env) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => expandEnvVars(v, env)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnvVars(v, env);
    return out as T;
  }
  return value;
}

/** `PluginType.singular` (`MELTANO_EXTRACTOR_NAME`). */
export const PLUGIN_SINGULAR: Record<PluginType, string> = {
  extractors: 'extractor',
  loaders: 'loader',
  mappers: 'mapper',
  orchestrators: 'orchestrator',
  transformers: 'transformer',
  files: 'file',
  utilities: 'utility',
  transforms: 'transform',
};

/** `PluginType.verb` (`MELTANO_EXTRACT_<SETTING>`). */
export const PLUGIN_VERB: Record<PluginType, string> = {
  extractors: 'extract',
  loaders: 'load',
  mappers: 'map',
  orchestrators: 'orchestrate',
  transformers: 'transform',
  files: 'file',
  utilities: 'utilize',
  transforms: 'transform',
};

export interface EnvNameSource {
  name: string;
  aliases?: readonly string[];
  /** `env:` of the setting definition: an extra variable the value is exported as (not read; see below). */
  env?: string;
  /** Deprecated `env_aliases`: extra variables read. */
  envAliases?: readonly string[];
}

/**
 * Variables a setting is READ from, in lookup order: `<prefix>_<name>` for each read prefix (plugin name, then
 * namespace), then the aliases with the same prefixes, then `env_aliases`. Meltano (`env_vars(for_writing=False)`)
 * does not read the setting's own `env:` variable; it only exports to it.
 */
export function readEnvVarNames(setting: EnvNameSource, prefixes: readonly string[]): string[] {
  const names = prefixes.map((p) => toEnvVar(p, setting.name));
  for (const alias of setting.aliases ?? []) names.push(...prefixes.map((p) => toEnvVar(p, alias)));
  // A leading `!` (kept here) means: read the variable and negate its truthiness.
  names.push(...(setting.envAliases ?? []));
  return [...new Set(names)];
}

/** Variables a setting is EXPORTED as: its `env:` first, then `<prefix>_<name>` for each write prefix. */
export function writeEnvVarNames(setting: EnvNameSource, prefixes: readonly string[]): string[] {
  const names = setting.env ? [setting.env] : [];
  names.push(...prefixes.map((p) => toEnvVar(p, setting.name)));
  return [...new Set(names)];
}
