import * as path from 'node:path';
import { PluginNotInstalledError } from './errors';
import { venvBin, venvDir } from './paths';
import { pluginTypeSingular, type InstallablePlugin } from './types';
import { findOnPath, isExecutableFile } from './which';

export { PluginNotInstalledError } from './errors';

type ExecutablePlugin = Pick<InstallablePlugin, 'type' | 'name' | 'pipUrl' | 'executable'>;

/**
 * The absolute path of a plugin's executable:
 * - an `executable` containing '/' (`./tap.py`, `bin/tap`) is a file relative to the project root;
 * - otherwise `executable` (default: the plugin name) inside the plugin venv's `bin/`;
 * - for a plugin without pip_url whose venv lacks it, the same name on PATH (`env.PATH`).
 * Throws PluginNotInstalledError naming the missing path and what to do.
 */
export async function resolveExecutable(
  plugin: ExecutablePlugin,
  projectRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const kind = pluginTypeSingular(plugin.type);
  const executable = plugin.executable ?? plugin.name;
  if (executable.includes('/')) {
    const file = path.resolve(projectRoot, executable);
    if (await isExecutableFile(file)) return file;
    const fix =
      plugin.pipUrl === undefined
        ? `Fix \`executable\` for '${plugin.name}' in meltano.yml or make the file executable (chmod +x).`
        : `Run \`floe install ${plugin.name}\`.`;
    throw new PluginNotInstalledError(
      `Plugin '${plugin.name}' (${kind}) is not installed: ${file} does not exist or is not executable. ${fix}`,
    );
  }
  const inVenv = path.join(venvBin(venvDir(projectRoot, plugin.type, plugin.name)), executable);
  if (await isExecutableFile(inVenv)) return inVenv;
  if (plugin.pipUrl === undefined) {
    const onPath = await findOnPath(executable, env);
    if (onPath !== undefined) return onPath;
    throw new PluginNotInstalledError(
      `Plugin '${plugin.name}' (${kind}) is not installed: it has no pip_url and '${executable}' is neither in ${path.dirname(inVenv)} nor on PATH. Install '${executable}' on PATH, or set pip_url or executable for '${plugin.name}' in meltano.yml.`,
    );
  }
  throw new PluginNotInstalledError(
    `Plugin '${plugin.name}' (${kind}) is not installed: ${inVenv} does not exist. Run \`floe install ${plugin.name}\`.`,
  );
}

/**
 * The environment for a plugin process: `base` with `VIRTUAL_ENV` set to the venv and its `bin/` first on
 * PATH; the caller's `PYTHONPATH` and `PYTHONHOME` are dropped so they cannot leak into the plugin's
 * interpreter (Meltano removes its own VIRTUAL_ENV/PYTHONPATH the same way). Never throws.
 */
export function pluginEnv(venv: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  env.VIRTUAL_ENV = venv;
  env.PATH = [venvBin(venv), base.PATH].filter((p) => p !== undefined && p !== '').join(path.delimiter);
  return env;
}
