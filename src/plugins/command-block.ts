/**
 * A command block (`dbt:run`, `tap-x:discover`, a utility by name): the plugin's executable with the command's
 * args (or none), in its venv, with its resolved env; non-zero exit fails like Meltano's
 * "`<plugin> <cmd>` failed with exit code: N".
 */
import { spawn } from 'node:child_process';
import { findPlugin } from '../config/project';
import type { Project } from '../config/project';
import { resolvePluginConfig } from '../config/settings';
import { RuntimeError, UserError } from '../shared/errors';
import { pluginEnv, resolveExecutable } from './executable';
import { venvDir } from './paths';

export interface CommandBlockRequest {
  project: Project;
  /** `plugin` or `plugin:command`. */
  arg: string;
  environment?: string;
  scheduleEnv?: Record<string, string>;
  extraEnv?: Record<string, string>;
  signal?: AbortSignal;
  onLog?: (line: string) => void;
  baseEnv?: NodeJS.ProcessEnv;
}

/** Splits a command's args like a shell would for simple quoting (Meltano uses shlex). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/**
 * Runs the command to completion.
 * @throws UserError for unknown plugins/commands, PluginNotInstalledError, RuntimeError on non-zero exit.
 */
export async function runPluginCommand(req: CommandBlockRequest): Promise<void> {
  const [name, command] = req.arg.split(':') as [string, string | undefined];
  const plugin = findPlugin(req.project, name);
  if (!plugin) throw new UserError(`Block '${req.arg}' names '${name}', which is not a plugin in meltano.yml.`);
  const baseEnv = req.baseEnv ?? process.env;
  const def = command === undefined ? undefined : plugin.commands[command];
  if (command !== undefined && !def) {
    const known = Object.keys(plugin.commands).join(', ') || 'none';
    throw new UserError(
      `Plugin '${name}' has no command '${command}' in meltano.yml (defined: ${known}); add it under commands.`,
    );
  }
  const exe = await resolveExecutable(
    { ...plugin, name: plugin.venvName, executable: def?.executable ?? plugin.executable },
    req.project.root,
    baseEnv,
  );
  const resolved = resolvePluginConfig(req.project, plugin, {
    environment: req.environment,
    env: baseEnv,
    scheduleEnv: req.scheduleEnv,
    extraEnv: req.extraEnv,
  });
  {
    // Settings reach utilities (dbt, ...) as environment variables, as with Meltano.
    const env = pluginEnv(venvDir(req.project.root, plugin.type, plugin.venvName), { ...baseEnv, ...resolved.env });
    const args = def ? splitArgs(def.args) : [];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(exe, args, {
        cwd: req.project.root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: req.signal,
      });
      const forward = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') req.onLog?.(line);
      };
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
      child.on('error', (e) => reject(e));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            new RuntimeError(`\`${name}${command ? ` ${command}` : ''}\` failed with exit code: ${code ?? signal}`),
          );
      });
    });
  }
}
