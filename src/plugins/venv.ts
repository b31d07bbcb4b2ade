import { lstat, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PluginInstallError } from './errors';
import { venvBin } from './paths';
import { runCommand, type CommandResult } from './run-command';

/** How a venv is made: uv when available (fast, cached), else the interpreter's own venv module and pip. */
export type Installer = { kind: 'uv'; uv: string } | { kind: 'pip' };

/** The interpreter used when a plugin names none (Meltano uses its own; floe has none, so PATH decides). */
export const DEFAULT_PYTHON = 'python3';

export interface VenvStepOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  /** Names the plugin in error messages: "plugin 'tap-x' (extractor)". */
  label: string;
  retryHint: string;
}

function failure(step: string, result: CommandResult, opts: VenvStepOptions): PluginInstallError {
  const why =
    result.spawnError !== undefined
      ? `could not start (${result.spawnError.message})`
      : result.code !== null
        ? `exited with code ${result.code}`
        : `was killed by ${result.signal ?? 'a signal'}`;
  const tail = result.tail.length > 0 ? `\n${result.tail.map((l) => `  ${l}`).join('\n')}` : '';
  return new PluginInstallError(`Installing ${opts.label} failed: \`${step}\` ${why}. ${opts.retryHint}${tail}`);
}

/** Creates an empty venv at `dir`. Throws PluginInstallError with the tool's last output when it fails. */
export async function createVenv(
  installer: Installer,
  python: string,
  dir: string,
  opts: VenvStepOptions,
): Promise<void> {
  const [command, args, step] =
    installer.kind === 'uv'
      ? // --relocatable: scripts find their interpreter relative to themselves, so the finished venv can be
        // renamed from its temporary directory into place.
        ([installer.uv, ['venv', '--relocatable', '--python', python, dir], `uv venv --python ${python}`] as const)
      : ([python, ['-m', 'venv', dir], `${python} -m venv`] as const);
  const result = await runCommand(command, args, opts);
  if (result.code !== 0) throw failure(step, result, opts);
}

/** Runs `pip install <args>` in the venv. Throws PluginInstallError with pip's last output when it fails. */
export async function pipInstall(
  installer: Installer,
  dir: string,
  pipArgs: readonly string[],
  opts: VenvStepOptions,
): Promise<void> {
  const python = path.join(venvBin(dir), 'python');
  const [command, args, step] =
    installer.kind === 'uv'
      ? ([
          installer.uv,
          ['pip', 'install', '--python', python, ...pipArgs],
          `uv pip install ${pipArgs.join(' ')}`,
        ] as const)
      : ([python, ['-m', 'pip', 'install', '--no-input', ...pipArgs], `pip install ${pipArgs.join(' ')}`] as const);
  const result = await runCommand(command, args, opts);
  if (result.code !== 0) throw failure(step, result, opts);
}

/** `3.11` from the venv's pyvenv.cfg (`version_info` from uv, `version` from venv), or undefined. Never throws. */
export async function venvPythonVersion(dir: string): Promise<string | undefined> {
  try {
    const cfg = await readFile(path.join(dir, 'pyvenv.cfg'), 'utf8');
    const match = /^\s*(?:version_info|version)\s*=\s*(\d+)\.(\d+)/m.exec(cfg);
    return match ? `${match[1]}.${match[2]}` : undefined;
  } catch {
    return undefined;
  }
}

/** True when the venv's interpreter still exists (its base Python may have been removed). Never throws. */
export async function venvPythonExists(dir: string): Promise<boolean> {
  try {
    return (await stat(path.join(venvBin(dir), 'python'))).isFile();
  } catch {
    return false;
  }
}

/**
 * Rewrites the temporary venv path to the final one in `bin/` scripts and pyvenv.cfg. pip writes absolute
 * shebangs (`#!<tmp>/bin/python`) and activate scripts name the venv, so a venv built elsewhere and
 * renamed into place needs this; uv's --relocatable venvs contain no such paths. Throws fs errors.
 */
export async function relocateVenv(from: string, to: string): Promise<void> {
  const needle = Buffer.from(from);
  const bin = venvBin(from);
  const files = [path.join(from, 'pyvenv.cfg'), ...(await readdir(bin)).map((f) => path.join(bin, f))];
  for (const file of files) {
    // lstat: the python symlinks point at the base interpreter, which must never be rewritten; large
    // regular files are binaries, not scripts.
    const info = await lstat(file).catch(() => undefined);
    if (info === undefined || !info.isFile() || info.size > 1_000_000) continue;
    const content = await readFile(file);
    if (content.indexOf(needle) === -1) continue;
    await writeFile(file, content.toString('utf8').split(from).join(to));
  }
}
