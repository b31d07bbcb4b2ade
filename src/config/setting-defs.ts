/**
 * The settings a plugin has, as Meltano's `PluginSettingsService.setting_definitions` builds them: the declared
 * `settings`, the extras of its type (leading `_`), and custom settings for every flattened `config` key that is
 * not declared.
 */
import type { PluginDef } from './project';
import type { PluginType, SettingDefinition } from './schema';
import { flattenDot } from '../singer/select-rules';

export interface SettingDef {
  name: string;
  kind?: string;
  value?: unknown;
  aliases: string[];
  env?: string;
  envAliases: string[];
  sensitive: boolean;
  options?: { value?: unknown }[];
  nestObject: boolean;
  custom: boolean;
  extra: boolean;
}

function extra(name: string, rest: Partial<SettingDef> = {}): SettingDef {
  return {
    name,
    aliases: [],
    envAliases: [],
    sensitive: false,
    nestObject: false,
    custom: false,
    extra: true,
    ...rest,
  };
}

const LOG_PARSER = extra('_log_parser');

/**
 * `EXTRA_SETTINGS` of `plugin/singer/{tap,target,mapper,base}.py`. The loader's `_dialect`/`_target_schema`
 * defaults are recalled from Meltano's target.py (the reference notes only name `_dialect`).
 */
export const EXTRA_SETTINGS: Partial<Record<PluginType, SettingDef[]>> = {
  extractors: [
    LOG_PARSER,
    extra('_catalog'),
    extra('_state'),
    extra('_load_schema', { value: '$MELTANO_EXTRACTOR_NAMESPACE' }),
    extra('_select', { kind: 'array', value: ['*.*'] }),
    extra('_metadata', { kind: 'object', value: {}, aliases: ['metadata'], nestObject: true }),
    extra('_schema', { kind: 'object', value: {}, nestObject: true }),
    extra('_select_filter', { kind: 'array', value: [] }),
    extra('_use_cached_catalog', { kind: 'boolean', value: true }),
  ],
  loaders: [
    LOG_PARSER,
    extra('_dialect', { value: '$MELTANO_LOADER_NAMESPACE' }),
    extra('_target_schema', { value: '$MELTANO_LOAD_SCHEMA' }),
  ],
  mappers: [LOG_PARSER, extra('_mappings', { kind: 'array', value: [] }), extra('_mapping_name')],
};

function fromDefinition(d: SettingDefinition): SettingDef {
  const kind = d.kind === 'hidden' ? 'string' : d.kind;
  return {
    name: d.name,
    kind,
    value: d.value,
    aliases: d.aliases ?? [],
    env: d.env,
    envAliases: d.env_aliases ?? [],
    // Meltano treats the deprecated `password` and `oauth` kinds as sensitive too (`is_redacted`).
    sensitive: d.sensitive === true || d.kind === 'password' || d.kind === 'oauth',
    options: d.options,
    nestObject: d.value_processor === 'nest_object',
    custom: false,
    extra: false,
  };
}

/** `SettingDefinition.from_key_value`: kind inferred from the YAML value. */
function customDef(name: string, value: unknown): SettingDef {
  let kind: string | undefined;
  if (typeof value === 'boolean') kind = 'boolean';
  else if (typeof value === 'number') kind = Number.isInteger(value) ? 'integer' : 'decimal';
  else if (Array.isArray(value)) kind = 'array';
  else if (typeof value === 'object' && value !== null) kind = 'object';
  return { name, kind, aliases: [], envAliases: [], sensitive: false, nestObject: false, custom: true, extra: false };
}

/** Declared settings, then custom settings for undeclared config keys (meltano.yml, then environment), then extras. */
export function settingDefinitions(plugin: PluginDef, environmentConfig: Record<string, unknown> = {}): SettingDef[] {
  const defs: SettingDef[] = [];
  const names = new Set<string>();
  const add = (d: SettingDef) => {
    if (names.has(d.name)) return;
    names.add(d.name);
    defs.push(d);
  };
  for (const d of plugin.settings) add(fromDefinition(d));
  for (const config of [plugin.config, environmentConfig]) {
    for (const [k, v] of Object.entries(flattenDot(config))) add(customDef(k, v));
  }
  for (const d of EXTRA_SETTINGS[plugin.type] ?? []) add(d);
  return defs;
}

const SECRET_HINT = /password|secret|token|private_key|api_key/i;

/**
 * Names whose values `floe config print|list` redact. Meltano redacts only settings declared `sensitive: true`
 * (or of kind password/oauth); floe also redacts undeclared (custom) settings whose name looks secret, because a
 * custom `config:` key such as `api_key` is usually a credential and printing it by accident costs more than
 * hiding a harmless value (`--unsafe` shows everything).
 */
export function sensitiveNames(defs: readonly SettingDef[]): string[] {
  return defs.filter((d) => !d.extra && (d.sensitive || (d.custom && SECRET_HINT.test(d.name)))).map((d) => d.name);
}
