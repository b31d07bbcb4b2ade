/**
 * Plugin settings as Meltano resolves them (`core/settings_service.py`, `plugin_settings_service.py`,
 * `plugin_invoker.py`; meltano.md §2 and §7). Per setting the first layer with a value wins:
 * env > `.env` > active environment config > meltano.yml config > inherited (parent plugin) > default (`value`).
 * Values from meltano.yml, the environment and defaults have `$VAR`/`${VAR}` expanded; every string is then
 * converted to the setting's kind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readDotenv } from './dotenv';
import { PLUGIN_SINGULAR, PLUGIN_VERB, expandEnvVars, readEnvVarNames, truthy, writeEnvVarNames } from './env-vars';
import type { PluginDef, Project } from './project';
import { sensitiveNames, settingDefinitions } from './setting-defs';
import type { SettingDef } from './setting-defs';
import { castValue, nestObject, pythonStr, stringifyValue } from './setting-values';
import { UserError } from '../shared/errors';

export type SettingSource = 'env' | 'dotenv' | 'environment' | 'meltano_yml' | 'inherited' | 'default';

export interface ResolveOptions {
  /** Active environment name (`--environment`, `MELTANO_ENVIRONMENT` or `default_environment`, chosen by the caller). */
  environment?: string;
  /** The terminal (worker process) environment. */
  env: NodeJS.ProcessEnv;
  /** A schedule's `env`: overlays the terminal environment, as `meltano schedule run` does. */
  scheduleEnv?: Record<string, string>;
  /** Caller overrides (run ID and the like), layered where Meltano puts its `env_override` argument. */
  extraEnv?: Record<string, string>;
  /** `.env` contents; read from `<project root>/.env` when omitted. */
  dotenv?: Record<string, string>;
}

export interface ResolvedPluginConfig {
  /** Nested, null-free: the plugin's config JSON. */
  config: Record<string, unknown>;
  /** Flat settings in setting order, unset ones null: what Meltano hashes for the catalog cache key. */
  flatConfig: Record<string, unknown>;
  /** Environment of the plugin process (without VIRTUAL_ENV/PYTHONPATH; the runner sets the venv). */
  env: Record<string, string>;
  /** Extras without their leading underscore (`select`, `metadata`, `load_schema`, ...). */
  extras: Record<string, unknown>;
  /** Where each setting's value came from (extras keep their `_` name). */
  sources: Record<string, SettingSource>;
  sensitiveKeys: string[];
}

/** A setting or environment reference that cannot be resolved. */
export class SettingsError extends UserError {
  override readonly name = 'SettingsError';
}

export const REDACTED = '(redacted)';

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function parentOf(project: Project, plugin: PluginDef): PluginDef | undefined {
  return plugin.inheritFrom === undefined
    ? undefined
    : project.plugins.find((p) => p.type === plugin.type && p.name === plugin.inheritFrom);
}

/** Prefixes exported for writing: own name and namespace, the parents', then `MELTANO_<VERB>`. */
function writePrefixes(project: Project, plugin: PluginDef): string[] {
  const out = [plugin.name, plugin.namespace];
  for (let p = parentOf(project, plugin); p; p = parentOf(project, p)) out.push(p.name, p.namespace);
  out.push(`meltano_${PLUGIN_VERB[plugin.type]}`);
  return unique(out);
}

/** The plugin's own config: keys the parent does not define identically (PluginDef merges the parent's in). */
function ownConfig(plugin: PluginDef, parent: PluginDef | undefined): Record<string, unknown> {
  if (!parent) return plugin.config;
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plugin.config)) {
    if (!(k in parent.config) || JSON.stringify(parent.config[k]) !== JSON.stringify(v)) own[k] = v;
  }
  return own;
}

/** Splits on unescaped dots and unescapes `\.` (Meltano's `process_config`). */
export function splitSettingPath(name: string): string[] {
  return name.split(/(?<!\\)\./).map((p) => p.replaceAll('\\.', '.'));
}

function lookup(config: Record<string, unknown>, names: string[]): { found: boolean; value?: unknown } {
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(config, name)) return { found: true, value: config[name] };
    let cursor: unknown = config;
    let ok = true;
    for (const part of name.split('.')) {
      if (typeof cursor === 'object' && cursor !== null && !Array.isArray(cursor) && part in cursor) {
        cursor = (cursor as Record<string, unknown>)[part];
      } else {
        ok = false;
        break;
      }
    }
    if (ok) return { found: true, value: cursor };
  }
  return { found: false };
}

/** Nests dotted keys and drops null values (Meltano's `SingerPlugin.process_config`). */
export function nestConfig(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (value === null || value === undefined) continue;
    const parts = splitSettingPath(key);
    const tail = parts.pop() as string;
    let cursor: Record<string, unknown> | undefined = out;
    for (const p of parts) {
      if (!(p in cursor)) cursor[p] = {};
      const next: unknown = cursor[p];
      cursor =
        typeof next === 'object' && next !== null && !Array.isArray(next)
          ? (next as Record<string, unknown>)
          : undefined;
      if (!cursor) break;
    }
    if (cursor && !(tail in cursor)) cursor[tail] = value;
  }
  return out;
}

function expandLayer(layer: Record<string, string>, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(layer)) out[k] = expandEnvVars(v, env);
  return out;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Resolves a plugin's config, extras and process environment for one run.
 * @throws SettingsError when `environment` is not defined in the project.
 * @throws SettingValueError when a value does not fit its setting's kind.
 */
export function resolvePluginConfig(project: Project, plugin: PluginDef, opts: ResolveOptions): ResolvedPluginConfig {
  const environment =
    opts.environment === undefined ? undefined : project.environments.find((e) => e.name === opts.environment);
  if (opts.environment !== undefined && !environment) {
    const known = project.environments.map((e) => e.name).join(', ') || 'none';
    throw new SettingsError(
      `Environment '${opts.environment}' is not defined in meltano.yml (defined: ${known}). Add it under environments: or pick another with --environment.`,
    );
  }
  const envPlugin = environment?.plugins[`${plugin.type}/${plugin.name}`];
  const dotenv = opts.dotenv ?? readDotenv(project.root, opts.env);

  // The layered environment (Meltano's `settings_service.env`): terminal (+ schedule env), project, caller
  // overrides, plugin info, then plugin, environment and environment-plugin `env:`, each expanded against what
  // came before (meltano.md §2.3).
  const layered: Record<string, string> = { ...definedOnly(opts.env), ...(opts.scheduleEnv ?? {}) };
  layered.MELTANO_PROJECT_ROOT = project.root;
  if (environment) layered.MELTANO_ENVIRONMENT = environment.name;
  if (project.projectId) layered.MELTANO_PROJECT_ID = project.projectId;
  const push = (layer: Record<string, string>) => Object.assign(layered, expandLayer(layer, { ...dotenv, ...layered }));
  push(project.env);
  Object.assign(layered, opts.extraEnv ?? {});
  const singular = PLUGIN_SINGULAR[plugin.type].toUpperCase();
  layered[`MELTANO_${singular}_NAME`] = plugin.name;
  layered[`MELTANO_${singular}_NAMESPACE`] = plugin.namespace;
  if (plugin.variant !== undefined) layered[`MELTANO_${singular}_VARIANT`] = plugin.variant;
  push(plugin.env);
  if (environment) push(environment.env);
  if (envPlugin) push(envPlugin.env);

  const parent = parentOf(project, plugin);
  const inherited = parent ? resolvePluginConfig(project, parent, { ...opts, dotenv }) : undefined;
  const defs = settingDefinitions(plugin, envPlugin?.config ?? {});
  const readPrefixes = unique([plugin.name, plugin.namespace]);
  const prefixes = writePrefixes(project, plugin);
  const ymlConfig = ownConfig(plugin, parent);
  const extraLayer = (extras: Record<string, unknown> | undefined) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(extras ?? {})) out[`_${k}`] = v;
    return out;
  };
  const ymlExtras = extraLayer(plugin.extras);
  const envExtras = extraLayer(envPlugin?.extras);

  const values = new Map<string, unknown>();
  const sources: Record<string, SettingSource> = {};
  const configEnv: Record<string, string> = {};
  const label = `${PLUGIN_SINGULAR[plugin.type]} '${plugin.name}'`;

  const resolve = (def: SettingDef, expansionEnv: Record<string, string | undefined>) => {
    const names = [def.name, ...def.aliases];
    let value: unknown;
    let source: SettingSource = 'default';
    let fromVar: string | undefined;
    let expandable = false;
    for (const [store, src] of [
      [layered, 'env'],
      [dotenv, 'dotenv'],
    ] as const) {
      for (const n of readEnvVarNames(def, readPrefixes)) {
        const negated = n.startsWith('!');
        const key = negated ? n.slice(1) : n;
        const v = store[key];
        if (v === undefined) continue;
        value = negated ? pythonStr(!truthy(v)) : v;
        source = src;
        fromVar = key;
        break;
      }
      if (fromVar) break;
    }
    if (!fromVar) {
      const env = lookup(def.extra ? envExtras : (envPlugin?.config ?? {}), names);
      const yml = lookup(def.extra ? ymlExtras : ymlConfig, names);
      const parentSource = inherited?.sources[def.name];
      if (env.found) [value, source, expandable] = [env.value, 'environment', true];
      else if (yml.found) [value, source, expandable] = [yml.value, 'meltano_yml', true];
      else if (inherited && parentSource && parentSource !== 'default') {
        value = def.extra ? inherited.extras[def.name.slice(1)] : inherited.flatConfig[def.name];
        source = 'inherited';
      } else [value, expandable] = [structuredClone(def.value), true];
    }
    if (expandable) {
      const raw = value;
      value = expandEnvVars(value, expansionEnv);
      // Meltano (settings_service.py, issue #7189): a value made only of unset variables is unset, not ''.
      if (typeof raw === 'string' && raw !== '' && value === '') value = null;
    }
    const where = `Setting '${def.name}' of ${label}${fromVar ? ` (from ${fromVar})` : ` (from ${source})`}`;
    value = castValue(value, def.kind, { where, options: def.options });
    if (def.nestObject && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      value = nestObject(value as Record<string, unknown>);
    }
    values.set(def.name, value ?? null);
    sources[def.name] = source;
    if (value !== null && value !== undefined) {
      for (const n of writeEnvVarNames(def, prefixes)) configEnv[n] = stringifyValue(value, def.kind);
    }
  };

  const baseExpansion = { ...dotenv, ...layered };
  for (const def of defs) if (!def.extra) resolve(def, baseExpansion);
  // Extras may reference the plugin's own settings (`$TAP_X_SCHEMA`), so they expand with those exported too.
  const extraExpansion = { ...baseExpansion, ...configEnv };
  for (const def of defs) if (def.extra) resolve(def, extraExpansion);

  const flatConfig: Record<string, unknown> = {};
  const extras: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plugin.extras)) extras[k] = v;
  for (const [k, v] of Object.entries(envPlugin?.extras ?? {})) extras[k] = v;
  for (const def of defs) {
    if (def.extra) extras[def.name.slice(1)] = values.get(def.name);
    else flatConfig[def.name] = values.get(def.name);
  }

  const env: Record<string, string> = { ...dotenv, ...layered, ...configEnv };
  delete env.VIRTUAL_ENV;
  delete env.PYTHONPATH;
  return {
    config: nestConfig(flatConfig),
    flatConfig,
    env,
    extras,
    sources,
    sensitiveKeys: sensitiveNames(defs),
  };
}

/** A copy of `config` (nested or flat) with the values of `sensitiveKeys` replaced by `(redacted)`. */
export function redactConfig(
  config: Record<string, unknown>,
  sensitiveKeys: readonly string[],
): Record<string, unknown> {
  const out = structuredClone(config);
  for (const key of sensitiveKeys) {
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      if (out[key] !== null && out[key] !== undefined) out[key] = REDACTED;
      continue;
    }
    const parts = splitSettingPath(key);
    const tail = parts.pop() as string;
    let cursor: unknown = out;
    for (const p of parts)
      cursor = typeof cursor === 'object' && cursor !== null ? (cursor as Record<string, unknown>)[p] : undefined;
    if (typeof cursor === 'object' && cursor !== null && tail in cursor) {
      const c = cursor as Record<string, unknown>;
      if (c[tail] !== null && c[tail] !== undefined) c[tail] = REDACTED;
    }
  }
  return out;
}

/**
 * Writes `config` as JSON to `<dir>/<name>` readable by the owner only (0600); deleting it is the caller's job.
 * @throws Error (from fs) when the directory is missing or not writable.
 */
export function writeConfigFile(dir: string, name: string, config: Record<string, unknown>): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // an existing file keeps its old mode on open
    fs.writeSync(fd, JSON.stringify(config, null, 2));
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
