/**
 * `floe select`: Meltano's `meltano select` (meltano.md §3.8, §6).
 * - `floe select <extractor> --list [--all]` discovers the catalog through the same path a run uses (cache,
 *   select/metadata/schema rules) and prints what is selected.
 * - `floe select <extractor> <entity> [attribute] [--exclude] [--rm]` adds (or removes) the pattern
 *   `[!]<entity>.<attribute>` to the extractor's `select` list in meltano.yml (`--clear` empties it), through the
 *   validated, comment-keeping edit path; with `--environment` (or MELTANO_ENVIRONMENT) the environment's
 *   entry for the extractor is edited instead, as Meltano does (its `default_environment` is ignored here).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from './context';
import { editProjectFile, getPluginKey, setPluginKey } from '../config/edit';
import { resolveEnvironment } from '../config/plan';
import { findPlugin } from '../config/project';
import type { PluginDef, Project } from '../config/project';
import { resolvePluginConfig, writeConfigFile } from '../config/settings';
import type { ResolvedPluginConfig } from '../config/settings';
import { pluginEnv, resolveExecutable } from '../plugins/executable';
import { venvDir } from '../plugins/paths';
import { UserError } from '../shared/errors';
import { listSelection } from '../singer/catalog';
import type { Catalog, Selection, StreamSelection } from '../singer/catalog';
import { prepareCatalog } from '../singer/catalog-prepare';

interface SelectCliOptions {
  list?: boolean;
  all?: boolean;
  refreshCatalog?: boolean;
  environment?: string;
  exclude?: boolean;
  rm?: boolean;
  remove?: boolean;
  clear?: boolean;
}

/** `[selected   ]` as Meltano pads the selection names. */
function tag(selection: Selection): string {
  return `[${selection.toLowerCase().padEnd(11)}]`;
}

function visible(selection: Selection, all: boolean): boolean {
  return all || selection === 'SELECTED' || selection === 'AUTOMATIC';
}

/**
 * The extractor named `name`.
 * @throws UserError naming the defined extractors when there is none by that name.
 */
export function extractorOrThrow(project: Project, name: string): PluginDef {
  const plugin = findPlugin(project, name, 'extractors');
  if (!plugin) {
    const known = project.plugins.filter((p) => p.type === 'extractors').map((p) => p.name);
    throw new UserError(`Extractor '${name}' is not defined in meltano.yml (defined: ${known.join(', ') || 'none'}).`);
  }
  return plugin;
}

/** What a tap needs to run outside a block: its command, config file and catalog arguments, its environment. */
export interface PreparedTap {
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The catalog file the tap gets, or undefined when it declares neither catalog nor properties. */
  catalogFile?: string;
}

/**
 * Runs `fn` with the tap's config written (0600) and its catalog prepared in a private run directory, which is
 * removed afterwards.
 * @throws PluginNotInstalledError, CatalogDiscoveryError, and whatever `fn` throws.
 */
export async function withPreparedTap<T>(
  project: Project,
  plugin: PluginDef,
  resolved: ResolvedPluginConfig,
  opts: { env: NodeJS.ProcessEnv; refreshCatalog: boolean },
  fn: (tap: PreparedTap) => Promise<T>,
): Promise<T> {
  const executable = await resolveExecutable({ ...plugin, name: plugin.venvName }, project.root, opts.env);
  const runDir = path.join(project.root, '.meltano', 'run', 'floe', `tap-${Date.now()}-${randomUUID().slice(0, 8)}`);
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  try {
    const configFile = writeConfigFile(runDir, 'tap.config.json', resolved.config);
    const env = pluginEnv(venvDir(project.root, plugin.type, plugin.venvName), { ...opts.env, ...resolved.env });
    const prepared = await prepareCatalog({
      project,
      plugin,
      executable,
      configFile,
      config: resolved.config,
      extras: resolved.extras,
      env,
      runDir,
      refresh: opts.refreshCatalog,
    });
    const args = ['--config', configFile, ...(prepared ? [prepared.flag, prepared.file] : [])];
    return await fn({ executable, args, env, ...(prepared ? { catalogFile: prepared.file } : {}) });
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

async function listMode(ctx: CliContext, name: string, opts: SelectCliOptions, json: boolean): Promise<void> {
  const project = ctx.loadProject();
  const plugin = extractorOrThrow(project, name);
  const env0 = ctx.io.env;
  const environment = resolveEnvironment(project, opts.environment ?? (env0.MELTANO_ENVIRONMENT || undefined));
  const resolved = resolvePluginConfig(project, plugin, { environment, env: env0 });
  const streams: StreamSelection[] = await withPreparedTap(
    project,
    plugin,
    resolved,
    { env: env0, refreshCatalog: opts.refreshCatalog === true },
    (tap) => {
      if (tap.catalogFile === undefined) {
        throw new UserError(
          `Extractor '${name}' declares neither the catalog nor the properties capability, so it has no catalog to select from; add 'catalog' and 'discover' to its capabilities in meltano.yml if it supports them.`,
        );
      }
      return Promise.resolve(listSelection(JSON.parse(fs.readFileSync(tap.catalogFile, 'utf8')) as Catalog));
    },
  );
  const patterns = (resolved.extras.select as string[] | undefined) ?? ['*.*'];
  const all = opts.all === true;
  if (json) {
    ctx.json({
      enabled_patterns: patterns,
      streams: streams
        .filter((s) => visible(s.selection, all))
        .map((s) => ({
          tap_stream_id: s.tapStreamId,
          selection: s.selection.toLowerCase(),
          properties: s.properties
            .filter((p) => visible(p.selection, all))
            .map((p) => ({ name: p.name, selection: p.selection.toLowerCase() })),
        })),
    });
    return;
  }
  ctx.out('Enabled patterns:');
  for (const p of patterns) ctx.out(`\t${p}`);
  ctx.out('');
  ctx.out(all ? 'Selected and excluded attributes:' : 'Selected attributes:');
  for (const s of streams) {
    if (!visible(s.selection, all)) continue;
    for (const p of s.properties) {
      if (visible(p.selection, all)) ctx.out(`\t${tag(p.selection)} ${s.tapStreamId}.${p.name}`);
    }
  }
}

/**
 * Adds, removes or clears `select` patterns of the extractor in meltano.yml.
 * @throws UserError for an unknown extractor or environment, or `--rm` of a pattern that is not in the list;
 *   EditError / EditRejectedError from the edit (the file is then unchanged).
 */
function editMode(ctx: CliContext, name: string, entity: string, attribute: string, opts: SelectCliOptions): void {
  const project = ctx.loadProject();
  extractorOrThrow(project, name);
  const requested = opts.environment ?? (ctx.io.env.MELTANO_ENVIRONMENT || undefined);
  const environment = requested === undefined ? undefined : resolveEnvironment(project, requested);
  const ref = { type: 'extractors', name, ...(environment ? { environment } : {}) };
  const where = environment ? `environment '${environment}' in meltano.yml` : 'meltano.yml';
  const pattern = `${opts.exclude ? '!' : ''}${entity}.${attribute}`;
  let message = '';
  editProjectFile(project.root, (text) => {
    const raw = getPluginKey(text, ref, ['select']);
    const current = Array.isArray(raw) ? raw.map(String) : [];
    if (opts.clear) {
      message = `Cleared the select patterns of extractor '${name}' in ${where}.`;
      return setPluginKey(text, ref, ['select'], []);
    }
    if (opts.rm) {
      if (!current.includes(pattern)) {
        throw new UserError(
          `Select pattern '${pattern}' is not in the select list of extractor '${name}' in ${where} (patterns: ${current.join(', ') || 'none'}); nothing was changed.`,
        );
      }
      message = `Removed select pattern '${pattern}' from extractor '${name}' in ${where}.`;
      return setPluginKey(
        text,
        ref,
        ['select'],
        current.filter((p) => p !== pattern),
      );
    }
    if (current.includes(pattern)) {
      message = `Select pattern '${pattern}' is already in the select list of extractor '${name}' in ${where}; nothing was changed.`;
      return text;
    }
    message = `Added select pattern '${pattern}' to extractor '${name}' in ${where}.`;
    return setPluginKey(text, ref, ['select'], [...current, pattern]);
  });
  ctx.out(message);
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('select')
    .description(
      "List an extractor's streams and properties and whether each is selected (--list), or add/remove a select pattern <entity>.<attribute> in meltano.yml.",
    )
    .argument('<extractor>')
    .argument('[entity]', "stream pattern (Unix glob on tap_stream_id), e.g. 'users' or '*'")
    .argument('[attribute]', "property pattern, e.g. 'id' or '*'", '*')
    .option('--list', 'list the selection')
    .option('--all', 'with --list: include excluded and unsupported streams and properties')
    .option('--refresh-catalog', 'with --list: ignore the cached catalog')
    .option('--exclude', "add or remove an exclusion ('!<entity>.<attribute>')")
    .option('--rm', 'remove the pattern instead of adding it')
    .addOption(new Option('--remove', 'same as --rm').hideHelp())
    .option('--clear', 'remove every select pattern of the extractor')
    .option(
      '--environment <name>',
      'Meltano environment (MELTANO_ENVIRONMENT; default_environment is ignored when editing)',
    )
    .action(
      async (name: string, entity: string | undefined, attribute: string, opts: SelectCliOptions, cmd: Command) => {
        if (opts.remove) opts.rm = true;
        if (opts.list) {
          if (entity !== undefined || opts.exclude || opts.rm || opts.clear) {
            throw new UserError(
              `'floe select ${name} --list' takes no pattern and no --exclude, --rm or --clear; list and edit in separate commands.`,
            );
          }
          await listMode(ctx, name, opts, ctx.format(cmd) === 'json');
          return;
        }
        if (entity === undefined && !opts.clear) {
          throw new UserError(
            `Give a pattern to add, e.g. 'floe select ${name} users id' (or '--rm' to remove one), or list the selection with 'floe select ${name} --list'.`,
          );
        }
        editMode(ctx, name, entity ?? '*', attribute, opts);
      },
    );
}
