/**
 * `floe config print|list|set|unset|test <plugin>`: Meltano's `meltano config` (meltano.md §2, §3.7).
 * - print/list: the config a plugin runs with, resolved exactly as `floe run` resolves it, secrets redacted
 *   unless `--unsafe`.
 * - set/unset: write a setting to meltano.yml (through the validated, comment-keeping edit path; under the active
 *   environment when one is given explicitly, as Meltano ignores `default_environment` for `config`) or `.env`.
 *   `--store auto` picks `.env` for sensitive settings and meltano.yml otherwise (meltano.md §2.4).
 * - test: runs an extractor until its first RECORD or BATCH message, as `meltano config test` does.
 *
 * `meltano config print --format env` cannot be spelled `--format env` here: the global `--format` accepts only
 * text and json, so the env form is `--env`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from './context';
import { withPreparedTap } from './select';
import { writeFileAtomic } from '../config/atomic-write';
import { editProjectFile, setPluginKey } from '../config/edit';
import { PLUGIN_SINGULAR, readEnvVarNames, toEnvVar } from '../config/env-vars';
import { resolveEnvironment } from '../config/plan';
import { findPlugin } from '../config/project';
import type { PluginDef, Project } from '../config/project';
import { settingDefinitions } from '../config/setting-defs';
import type { SettingDef } from '../config/setting-defs';
import { castValue, pythonStr } from '../config/setting-values';
import { REDACTED, redactConfig, resolvePluginConfig, splitSettingPath } from '../config/settings';
import type { ResolvedPluginConfig, SettingSource } from '../config/settings';
import { RuntimeError, UserError } from '../shared/errors';

interface ConfigCliOptions {
  unsafe?: boolean;
  environment?: string;
}

function pluginOrThrow(project: Project, name: string): PluginDef {
  const plugin = findPlugin(project, name);
  if (!plugin) {
    throw new UserError(
      `Plugin '${name}' is not defined in meltano.yml (defined: ${project.plugins.map((p) => p.name).join(', ') || 'none'}).`,
    );
  }
  return plugin;
}

/**
 * Resolves a plugin's config as a run would see it.
 * @throws UserError for an unknown plugin or environment; SettingValueError for a value of the wrong kind.
 */
export function resolveForCli(ctx: CliContext, name: string, opts: ConfigCliOptions): ResolvedPluginConfig {
  const project = ctx.loadProject();
  const plugin = pluginOrThrow(project, name);
  const environment = resolveEnvironment(project, opts.environment ?? (ctx.io.env.MELTANO_ENVIRONMENT || undefined));
  return resolvePluginConfig(project, plugin, { environment, env: ctx.io.env });
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const STORES = ['auto', 'meltano_yml', 'meltano_environment', 'dotenv'] as const;
type Store = (typeof STORES)[number];
type ConcreteStore = Exclude<Store, 'auto'>;

const STORE_LABEL: Record<ConcreteStore, string> = {
  meltano_yml: '`meltano.yml`',
  meltano_environment: 'the active environment in `meltano.yml`',
  dotenv: '`.env`',
};
const STORE_SOURCE: Record<ConcreteStore, SettingSource> = {
  meltano_yml: 'meltano_yml',
  meltano_environment: 'environment',
  dotenv: 'dotenv',
};
const SOURCE_LABEL: Record<SettingSource, string> = {
  env: 'the environment',
  dotenv: '`.env`',
  environment: 'the active environment in `meltano.yml`',
  meltano_yml: '`meltano.yml`',
  inherited: 'inherited',
  default: 'the default',
};

/** Python's `repr()` of a setting value, as Meltano prints it after `config set` (`'x'`, `5`, `True`, `['a']`). */
export function pythonRepr(value: unknown): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value
      .replaceAll('\\', '\\\\')
      .replaceAll('\n', '\\n')
      .replaceAll('\t', '\\t')
      .replaceAll(quote, `\\${quote}`);
    return `${quote}${body}${quote}`;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  return pythonStr(value);
}

interface SettingTarget {
  plugin: PluginDef;
  def: SettingDef;
  /** Keys under the plugin's entry in meltano.yml: `['config', 'a', 'b']`, or `['select']` for an extra. */
  keys: string[];
  /** `Extractor 'tap-x'`. */
  label: string;
  /** Explicit environment (`--environment` or MELTANO_ENVIRONMENT); `default_environment` is ignored. */
  environment?: string;
}

/**
 * The setting `parts` names (one dotted argument, or one argument per level, as Meltano accepts).
 * @throws UserError for an unknown plugin or environment, or an extra (`_name`) the plugin type does not have.
 */
function settingTarget(
  ctx: CliContext,
  project: Project,
  pluginName: string,
  parts: string[],
  opts: ConfigCliOptions,
): SettingTarget {
  const plugin = pluginOrThrow(project, pluginName);
  const requested = opts.environment ?? (ctx.io.env.MELTANO_ENVIRONMENT || undefined);
  const environment = requested === undefined ? undefined : resolveEnvironment(project, requested);
  const path = parts.length === 1 ? splitSettingPath(parts[0] as string) : parts;
  const name = path.join('.');
  const envConfig = environment
    ? (project.environments.find((e) => e.name === environment)?.plugins[`${plugin.type}/${plugin.name}`]?.config ?? {})
    : {};
  const defs = settingDefinitions(plugin, envConfig);
  const known = defs.find((d) => d.name === name || d.aliases.includes(name));
  const singular = PLUGIN_SINGULAR[plugin.type];
  const label = `${singular.charAt(0).toUpperCase()}${singular.slice(1)} '${plugin.name}'`;
  if (!known && name.startsWith('_')) {
    const extras = defs.filter((d) => d.extra).map((d) => d.name);
    throw new UserError(
      `Setting '${name}' is not an extra of ${singular} '${plugin.name}' (extras: ${extras.join(', ') || 'none'}); extras start with '_', other settings do not.`,
    );
  }
  const def: SettingDef = known ?? {
    name,
    aliases: [],
    envAliases: [],
    sensitive: false,
    nestObject: false,
    custom: true,
    extra: false,
  };
  const keys = def.extra ? [def.name.slice(1)] : ['config', ...splitSettingPath(def.name)];
  return { plugin, def, keys, label, ...(environment ? { environment } : {}) };
}

/** The `.env` variable a setting is written to: `<PLUGIN_NAME>_<SETTING>` (Meltano's first read name). */
function dotenvNames(t: SettingTarget): string[] {
  return readEnvVarNames(t.def, [t.plugin.name, t.plugin.namespace]).filter((n) => !n.startsWith('!'));
}

const dotenvLine = (key: string) => new RegExp(`^\\s*(?:export\\s+)?${key.replace(/[.]/g, '\\.')}\\s*=`);

/** Sets or (value undefined) removes `KEY='value'` lines, quoted as python-dotenv's `set_key` quotes them. */
export function editDotenvText(text: string, key: string, value: string | undefined): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const match = dotenvLine(key);
  const line = value === undefined ? undefined : `${key}='${value.replaceAll("'", "\\'")}'`;
  const index = lines.findIndex((l) => match.test(l));
  const kept = lines.filter((l, i) => !match.test(l) || (line !== undefined && i === index));
  if (line !== undefined) {
    if (index >= 0) kept[kept.findIndex((l) => match.test(l))] = line;
    else kept.push(line);
  }
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

function writeDotenv(root: string, edit: (text: string) => string): boolean {
  const file = path.join(root, '.env');
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const after = edit(before);
  if (after === before) return false;
  try {
    writeFileAtomic(file, after);
  } catch (err) {
    throw new RuntimeError(`Cannot write ${file} (${(err as Error).message}); the file is unchanged.`);
  }
  return true;
}

/**
 * `config set`: casts the value to the setting's kind, writes it to the chosen store and reports it.
 * @throws SettingValueError (value of the wrong kind), UserError (store needs an environment), EditError /
 *   EditRejectedError (meltano.yml unchanged), RuntimeError (a file cannot be written).
 */
function setSetting(
  ctx: CliContext,
  pluginName: string,
  args: string[],
  opts: ConfigCliOptions & { store: Store },
): void {
  const project = ctx.loadProject();
  const raw = args[args.length - 1] as string;
  const t = settingTarget(ctx, project, pluginName, args.slice(0, -1), opts);
  const store: ConcreteStore =
    opts.store !== 'auto'
      ? opts.store
      : t.def.sensitive
        ? 'dotenv'
        : t.environment
          ? 'meltano_environment'
          : 'meltano_yml';
  if (store === 'meltano_environment' && !t.environment) {
    throw new UserError(
      `--store meltano_environment needs an environment: pass --environment <name> or set MELTANO_ENVIRONMENT (default_environment is ignored by 'floe config').`,
    );
  }
  const value = castValue(raw, t.def.kind, {
    where: `Setting '${t.def.name}' of ${PLUGIN_SINGULAR[t.plugin.type]} '${t.plugin.name}' (from the command line)`,
    options: t.def.options,
  });
  if (store === 'dotenv') {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    writeDotenv(project.root, (text) => editDotenvText(text, dotenvNames(t)[0] as string, shown));
  } else {
    const ref = {
      type: t.plugin.type,
      name: t.plugin.name,
      ...(store === 'meltano_environment' ? { environment: t.environment } : {}),
    };
    editProjectFile(project.root, (text) => setPluginKey(text, ref, t.keys, value));
  }
  const written = ctx.loadProject();
  const after = resolvePluginConfig(written, pluginOrThrow(written, t.plugin.name), {
    environment: t.environment,
    env: ctx.io.env,
  });
  const secret = t.def.sensitive || after.sensitiveKeys.includes(t.def.name);
  ctx.out(
    `${t.label} setting '${t.def.name}' was set in ${STORE_LABEL[store]}: ${secret ? REDACTED : pythonRepr(value)}`,
  );
  const source = after.sources[t.def.name];
  if (source !== undefined && source !== STORE_SOURCE[store]) {
    const current = t.def.extra ? after.extras[t.def.name.slice(1)] : after.flatConfig[t.def.name];
    ctx.warn(`Current value is still: ${secret ? REDACTED : pythonRepr(current)} (from ${SOURCE_LABEL[source]})`);
  }
}

/**
 * `config unset`: removes the setting from the chosen store (`auto`: meltano.yml, the explicit environment's
 * entry and `.env`).
 * @throws UserError, EditError / EditRejectedError (meltano.yml unchanged), RuntimeError (a file cannot be written).
 */
function unsetSetting(
  ctx: CliContext,
  pluginName: string,
  args: string[],
  opts: ConfigCliOptions & { store: Store },
): void {
  const project = ctx.loadProject();
  const t = settingTarget(ctx, project, pluginName, args, opts);
  if (opts.store === 'meltano_environment' && !t.environment) {
    throw new UserError(
      `--store meltano_environment needs an environment: pass --environment <name> or set MELTANO_ENVIRONMENT (default_environment is ignored by 'floe config').`,
    );
  }
  const stores: ConcreteStore[] =
    opts.store === 'auto'
      ? [...(t.environment ? (['meltano_environment'] as const) : []), 'meltano_yml', 'dotenv']
      : [opts.store];
  const removed: ConcreteStore[] = [];
  const ymlStores = stores.filter((s) => s !== 'dotenv');
  const unsetIn = (text: string, s: ConcreteStore) =>
    setPluginKey(
      text,
      {
        type: t.plugin.type,
        name: t.plugin.name,
        ...(s === 'meltano_environment' ? { environment: t.environment } : {}),
      },
      t.keys,
      undefined,
    );
  const before = fs.readFileSync(project.file, 'utf8');
  let probe = before;
  for (const s of ymlStores) {
    const next = unsetIn(probe, s);
    if (next !== probe) removed.push(s);
    probe = next;
  }
  if (removed.length > 0) editProjectFile(project.root, (text) => ymlStores.reduce(unsetIn, text));
  if (stores.includes('dotenv')) {
    const names = dotenvNames(t);
    if (writeDotenv(project.root, (text) => names.reduce((acc, n) => editDotenvText(acc, n, undefined), text)))
      removed.push('dotenv');
  }
  if (removed.length === 0) {
    ctx.out(
      `${t.label} setting '${t.def.name}' was not set in ${stores.map((s) => STORE_LABEL[s]).join(' or ')}; nothing was changed.`,
    );
    return;
  }
  ctx.out(`${t.label} setting '${t.def.name}' was unset in ${removed.map((s) => STORE_LABEL[s]).join(' and ')}.`);
}

/** How long a tap that ignores SIGTERM after its first record gets before SIGKILL. */
const TEST_KILL_GRACE_MS = 10_000;

/**
 * `config test`: runs the extractor until its first RECORD or BATCH message (then stops it).
 * @throws UserError for a plugin that is not an extractor; RuntimeError "Plugin configuration is invalid" with
 *   the tap's last output line (or a hint about selection) when no record came.
 */
async function testExtractor(ctx: CliContext, name: string, opts: ConfigCliOptions): Promise<void> {
  const project = ctx.loadProject();
  const plugin = pluginOrThrow(project, name);
  if (plugin.type !== 'extractors') {
    throw new UserError(
      `floe config test supports extractors only: '${name}' is a ${PLUGIN_SINGULAR[plugin.type]} (testing a loader writes test data to its destination); run a small pipeline with 'floe run' instead.`,
    );
  }
  const resolved = resolveForCli(ctx, name, opts);
  const outcome = await withPreparedTap(
    project,
    plugin,
    resolved,
    { env: ctx.io.env, refreshCatalog: false },
    (tap) =>
      new Promise<{ found: boolean; code: number | null; lastLine?: string }>((resolve) => {
        const child = spawn(tap.executable, tap.args, {
          cwd: project.root,
          env: tap.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let found = false;
        let lastLine: string | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        const onLine = (line: string) => {
          const trimmed = line.trim();
          if (trimmed === '' || found) return;
          lastLine = trimmed;
          let type: unknown;
          try {
            type = (JSON.parse(trimmed) as { type?: unknown }).type;
          } catch {
            return;
          }
          if (type === 'RECORD' || type === 'BATCH') {
            found = true;
            child.kill('SIGTERM');
            killTimer = setTimeout(() => child.kill('SIGKILL'), TEST_KILL_GRACE_MS);
            killTimer.unref();
          }
        };
        createInterface({ input: child.stdout }).on('line', onLine);
        createInterface({ input: child.stderr }).on('line', onLine);
        child.on('error', (err) => resolve({ found: false, code: null, lastLine: err.message }));
        child.on('close', (code) => {
          if (killTimer) clearTimeout(killTimer);
          resolve({ found, code, ...(lastLine !== undefined ? { lastLine } : {}) });
        });
      }),
  );
  if (outcome.found) {
    ctx.out('Plugin configuration is valid');
    return;
  }
  const detail =
    outcome.code !== 0
      ? (outcome.lastLine ?? 'Plugin did not emit any output')
      : `No RECORD or BATCH message received. Verify that at least one stream is selected using 'floe select ${name} --list'.`;
  throw new RuntimeError(
    ['Plugin configuration is invalid', detail, `Run 'floe config list ${name}' to review the plugin settings.`].join(
      '\n',
    ),
  );
}

export function register(program: Command, ctx: CliContext): void {
  const config = program
    .command('config')
    .description("Show a plugin's resolved config (secrets redacted unless --unsafe).");

  config
    .command('print')
    .description('Print the config JSON the plugin runs with (or KEY=value lines with --env).')
    .argument('<plugin>')
    .option('--unsafe', 'show secrets')
    .option('--env', 'print environment variable assignments instead of JSON')
    .option('--environment <name>', 'Meltano environment (MELTANO_ENVIRONMENT, else default_environment)')
    .action((name: string, opts: ConfigCliOptions & { env?: boolean }) => {
      const resolved = resolveForCli(ctx, name, opts);
      if (opts.env) {
        for (const [key, value] of Object.entries(resolved.flatConfig)) {
          if (value === null || value === undefined) continue;
          const secret = !opts.unsafe && resolved.sensitiveKeys.includes(key);
          ctx.out(`${toEnvVar(name, key)}=${secret ? REDACTED : shown(value)}`);
        }
        return;
      }
      ctx.json(opts.unsafe ? resolved.config : redactConfig(resolved.config, resolved.sensitiveKeys));
    });

  config
    .command('list')
    .description('List every setting with its value and where the value came from.')
    .argument('<plugin>')
    .option('--unsafe', 'show secrets')
    .option('--environment <name>', 'Meltano environment (MELTANO_ENVIRONMENT, else default_environment)')
    .action((name: string, opts: ConfigCliOptions, cmd: Command) => {
      const resolved = resolveForCli(ctx, name, opts);
      const rows = Object.entries(resolved.flatConfig).map(([setting, value]) => {
        const secret = !opts.unsafe && resolved.sensitiveKeys.includes(setting) && value !== null;
        return { setting, value: secret ? REDACTED : (value ?? null), source: resolved.sources[setting] ?? 'default' };
      });
      if (ctx.format(cmd) === 'json') {
        ctx.json(rows);
        return;
      }
      for (const r of rows) {
        ctx.out(r.value === null ? `${r.setting} (not set)` : `${r.setting}=${shown(r.value)} (from ${r.source})`);
      }
    });

  const storeOption = () =>
    new Option('--store <store>', "where to write: auto ('.env' for sensitive settings, else meltano.yml)")
      .choices(STORES)
      .default('auto');
  const environmentOption = () =>
    new Option(
      '--environment <name>',
      'write under this environment (MELTANO_ENVIRONMENT; default_environment is ignored)',
    );

  config
    .command('set')
    .description("Set a setting: 'floe config set tap-x host db.example' or 'floe config set tap-x a b value' for a.b.")
    .argument('<plugin>')
    .argument('<setting-and-value...>', 'the setting (dotted, or one argument per level) followed by its value')
    .addOption(storeOption())
    .addOption(environmentOption())
    .action((name: string, args: string[], opts: ConfigCliOptions & { store: Store }) => {
      if (args.length < 2) {
        throw new UserError(`Give a setting and a value, e.g. 'floe config set ${name} host db.example'.`);
      }
      setSetting(ctx, name, args, opts);
    });

  config
    .command('unset')
    .description('Remove a setting from meltano.yml and .env (or only from --store).')
    .argument('<plugin>')
    .argument('<setting...>', 'the setting (dotted, or one argument per level)')
    .addOption(storeOption())
    .addOption(environmentOption())
    .action((name: string, args: string[], opts: ConfigCliOptions & { store: Store }) => {
      unsetSetting(ctx, name, args, opts);
    });

  config
    .command('test')
    .description("Run an extractor until its first record to check its settings (as 'meltano config test').")
    .argument('<plugin>')
    .option('--environment <name>', 'Meltano environment (MELTANO_ENVIRONMENT, else default_environment)')
    .action(async (name: string, opts: ConfigCliOptions) => {
      await testExtractor(ctx, name, opts);
    });
}
