import * as path from 'node:path';
import { UserError } from '../shared/errors';
import { findOnPath, isExecutableFile } from './which';

/** Where `floe` provisions its own tools (uv, the Temporal CLI) inside a project. */
export const PROJECT_UV_PATH = path.join('.floe', 'tools', 'venv', 'bin', 'uv');

/**
 * The uv binary to install plugins with: `$UV`, else `<root>/.floe/tools/venv/bin/uv`, else `uv` on
 * PATH; undefined when there is none (the installer then falls back to `python -m venv` + pip).
 * Throws UserError when `$UV` is set but does not name an executable file, since silently ignoring an
 * explicit choice would hide a typo.
 */
export async function findUv(projectRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const fromEnv = env.UV;
  if (fromEnv !== undefined && fromEnv !== '') {
    const resolved = path.resolve(projectRoot, fromEnv);
    if (await isExecutableFile(resolved)) return resolved;
    throw new UserError(
      `UV='${fromEnv}' does not name an executable file (resolved to '${resolved}'). Point UV at a uv binary or unset it.`,
    );
  }
  const provisioned = path.join(path.resolve(projectRoot), PROJECT_UV_PATH);
  if (await isExecutableFile(provisioned)) return provisioned;
  return findOnPath('uv', env);
}
