/**
 * `floe config print <plugin>` and `floe config list <plugin>`: the config a plugin runs with, resolved exactly as
 * `floe run` resolves it (meltano.md §2, §3.7), secrets redacted unless `--unsafe`.
 *
 * `meltano config print --format env` cannot be spelled `--format env` here: the global `--format` accepts only
 * text and json, so the env form is `--env`.
 */
import type { Command } from 'commander';
import type { CliContext } from './context';
import { toEnvVar } from '../config/env-vars';
import { resolveEnvironment } from '../config/plan';
import { findPlugin } from '../config/project';
import type { PluginDef, Project } from '../config/project';
import { REDACTED, redactConfig, resolvePluginConfig } from '../config/settings';
import type { ResolvedPluginConfig } from '../config/settings';
import { UserError } from '../shared/errors';

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
}
