/**
 * `floe select <extractor> --list [--all]`: `meltano select --list` (meltano.md §3.8, §6): discovers the catalog
 * through the same path a run uses (cache, select/metadata/schema rules) and prints what is selected.
 * Editing `select` patterns from the command line is not supported yet: edit `select` in meltano.yml.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context';
import { resolveEnvironment } from '../config/plan';
import { findPlugin } from '../config/project';
import { resolvePluginConfig, writeConfigFile } from '../config/settings';
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
}

/** `[selected   ]` as Meltano pads the selection names. */
function tag(selection: Selection): string {
  return `[${selection.toLowerCase().padEnd(11)}]`;
}

function visible(selection: Selection, all: boolean): boolean {
  return all || selection === 'SELECTED' || selection === 'AUTOMATIC';
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('select')
    .description("List an extractor's streams and properties and whether each is selected.")
    .argument('<extractor>')
    .option('--list', 'list the selection (the only mode so far)')
    .option('--all', 'include excluded and unsupported streams and properties')
    .option('--refresh-catalog', 'ignore the cached catalog')
    .option('--environment <name>', 'Meltano environment (MELTANO_ENVIRONMENT, else default_environment)')
    .action(async (name: string, opts: SelectCliOptions, cmd: Command) => {
      if (!opts.list) {
        throw new UserError(
          `floe select only lists the selection so far: run 'floe select ${name} --list', and edit the 'select' extra of '${name}' in meltano.yml to change it.`,
        );
      }
      const project = ctx.loadProject();
      const plugin = findPlugin(project, name, 'extractors');
      if (!plugin) {
        const known = project.plugins.filter((p) => p.type === 'extractors').map((p) => p.name);
        throw new UserError(
          `Extractor '${name}' is not defined in meltano.yml (defined: ${known.join(', ') || 'none'}).`,
        );
      }
      const env0 = ctx.io.env;
      const environment = resolveEnvironment(project, opts.environment ?? (env0.MELTANO_ENVIRONMENT || undefined));
      const executable = await resolveExecutable({ ...plugin, name: plugin.venvName }, project.root, env0);
      const resolved = resolvePluginConfig(project, plugin, { environment, env: env0 });
      const runDir = path.join(
        project.root,
        '.meltano',
        'run',
        'floe',
        `select-${Date.now()}-${randomUUID().slice(0, 8)}`,
      );
      fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
      let streams: StreamSelection[];
      try {
        const configFile = writeConfigFile(runDir, 'tap.config.json', resolved.config);
        const prepared = await prepareCatalog({
          project,
          plugin,
          executable,
          configFile,
          config: resolved.config,
          extras: resolved.extras,
          env: pluginEnv(venvDir(project.root, plugin.type, plugin.venvName), { ...env0, ...resolved.env }),
          runDir,
          refresh: opts.refreshCatalog === true,
        });
        if (!prepared) {
          throw new UserError(
            `Extractor '${name}' declares neither the catalog nor the properties capability, so it has no catalog to select from; add 'catalog' and 'discover' to its capabilities in meltano.yml if it supports them.`,
          );
        }
        streams = listSelection(JSON.parse(fs.readFileSync(prepared.file, 'utf8')) as Catalog);
      } finally {
        fs.rmSync(runDir, { recursive: true, force: true });
      }
      const patterns = (resolved.extras.select as string[] | undefined) ?? ['*.*'];
      const all = opts.all === true;
      if (ctx.format(cmd) === 'json') {
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
    });
}
