import * as path from 'node:path';
import type { PluginType } from './types';

/** Meltano's file name, so venvs installed by `meltano install` are recognised as up to date. */
export const FINGERPRINT_FILE = '.meltano_plugin_fingerprint';

/** `<root>/.meltano/<type>/<name>`: the plugin's directory; its venv and temporary install dirs live inside. */
export function pluginDir(projectRoot: string, type: PluginType, name: string): string {
  return path.join(path.resolve(projectRoot), '.meltano', type, name);
}

/** `<root>/.meltano/<type>/<name>/venv`, as `meltano install` lays it out. */
export function venvDir(projectRoot: string, type: PluginType, name: string): string {
  return path.join(pluginDir(projectRoot, type, name), 'venv');
}

export function venvBin(venv: string): string {
  return path.join(venv, 'bin');
}

export function fingerprintPath(venv: string): string {
  return path.join(venv, FINGERPRINT_FILE);
}
