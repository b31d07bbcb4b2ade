import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError, UserError } from '../shared/errors';
import { UnsupportedPythonError } from './errors';
import { computeFingerprint, readFingerprint, writeFingerprint } from './fingerprint';
import { findUv } from './find-uv';
import { missingEnvVars, pipInstallArgs } from './pip-url';
import { pluginDir, venvDir } from './paths';
import { pluginTypeSingular, type InstallablePlugin, type InstallOptions, type InstallResult } from './types';
import {
  createVenv,
  DEFAULT_PYTHON,
  pipInstall,
  relocateVenv,
  venvPythonExists,
  venvPythonVersion,
  type Installer,
  type VenvStepOptions,
} from './venv';

/** Prefix of the temporary directories next to `venv` where a new venv is built before it replaces the old. */
export const INSTALL_TMP_PREFIX = '.installing-';

function label(plugin: InstallablePlugin): string {
  return `plugin '${plugin.name}' (${pluginTypeSingular(plugin.type)})`;
}

/**
 * The environment for uv/pip: no VIRTUAL_ENV/PYTHONPATH of the caller's (Meltano drops them too), and uv
 * must never download an interpreter at install time.
 */
function installerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, UV_PYTHON_DOWNLOADS: env.UV_PYTHON_DOWNLOADS ?? 'never' };
  out.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  delete out.VIRTUAL_ENV;
  delete out.PYTHONPATH;
  return out;
}

async function installOne(
  plugin: InstallablePlugin,
  opts: InstallOptions,
  installer: Installer,
  env: NodeJS.ProcessEnv,
): Promise<InstallResult> {
  const started = Date.now();
  const base = { type: plugin.type, name: plugin.name };
  const log = (line: string): void => opts.onLog?.(plugin, line);
  const done = (rest: Omit<InstallResult, 'type' | 'name' | 'durationMs'>): InstallResult => ({
    ...base,
    ...rest,
    durationMs: Date.now() - started,
  });

  if (plugin.pipUrl === undefined || plugin.pipUrl.trim() === '') {
    const note = `no pip_url: runs '${plugin.executable ?? plugin.name}' from the project or PATH`;
    log(`Skipping ${label(plugin)}: ${note}`);
    return done({ status: 'skipped', note });
  }
  const pipArgs = pipInstallArgs(plugin.pipUrl, env);
  const missing = missingEnvVars(plugin.pipUrl, env);
  if (missing.length > 0) log(`pip_url of ${label(plugin)} uses unset variables: ${missing.join(', ')}`);
  if (pipArgs.length === 0) {
    const error = new UserError(
      `Installing ${label(plugin)} failed: pip_url '${plugin.pipUrl}' expands to no pip arguments (unset: ${missing.join(', ')}). Set the variables or fix pip_url in meltano.yml.`,
    );
    return done({ status: 'failed', error });
  }

  const target = venvDir(opts.projectRoot, plugin.type, plugin.name);
  const fingerprint = computeFingerprint(pipArgs, plugin.python);
  if (!opts.clean && (await readFingerprint(target)) === fingerprint && (await venvPythonExists(target))) {
    log(`${label(plugin)} is up to date`);
    return done({ status: 'up to date', venvDir: target });
  }

  const parent = pluginDir(opts.projectRoot, plugin.type, plugin.name);
  await mkdir(parent, { recursive: true });
  const tmpRoot = await mkdtemp(path.join(parent, INSTALL_TMP_PREFIX));
  const building = path.join(tmpRoot, 'venv');
  const python = plugin.python ?? DEFAULT_PYTHON;
  const step: VenvStepOptions = {
    cwd: path.resolve(opts.projectRoot), // relative pip_url paths (`-e ./plugin`) are relative to the project
    env: installerEnv(env),
    onLine: log,
    label: label(plugin),
    retryHint: `Fix pip_url or python for '${plugin.name}' in meltano.yml, then run \`floe install ${plugin.name}\` again.`,
  };
  try {
    log(`Installing ${label(plugin)} with ${installer.kind}: ${pipArgs.join(' ')}`);
    await createVenv(installer, python, building, step);
    await checkPythonVersion(plugin, building, python, opts.force === true);
    await pipInstall(installer, building, pipArgs, step);
    await writeFingerprint(building, fingerprint);
    await relocateVenv(building, target);
    await swapIntoPlace(building, target, fingerprint);
    log(`Installed ${label(plugin)}`);
    return done({ status: 'installed', venvDir: target, note: `installed with ${installer.kind}` });
  } catch (err) {
    const error = err instanceof Error ? err : new RuntimeError(String(err));
    return done({ status: 'failed', error });
  } finally {
    await rm(tmpRoot, { recursive: true, force: true });
  }
}

async function checkPythonVersion(
  plugin: InstallablePlugin,
  dir: string,
  python: string,
  force: boolean,
): Promise<void> {
  const supported = plugin.supportedPythonVersions;
  if (force || supported === undefined || supported.length === 0) return;
  const version = await venvPythonVersion(dir);
  if (version === undefined || supported.includes(version)) return;
  throw new UnsupportedPythonError(
    `Installing ${label(plugin)} failed: the interpreter '${python}' is Python ${version} but the plugin supports ${supported.join(', ')}. Set \`python\` for '${plugin.name}' in meltano.yml to a supported interpreter, or install with --force.`,
  );
}

/**
 * Replaces the old venv with the new one. The old one is removed only now, so a failed install leaves the
 * previous working venv (and its fingerprint) untouched. When another process installed the same
 * fingerprint in the meantime its venv is kept.
 */
async function swapIntoPlace(building: string, target: string, fingerprint: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await rm(target, { recursive: true, force: true });
    try {
      await rename(building, target);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if ((await readFingerprint(target)) === fingerprint) return;
      if (attempt >= 2) throw err;
    }
  }
}

/** Runs `worker` over `items` with at most `limit` at once; results keep the input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Installs each plugin into `<root>/.meltano/<type>/<name>/venv` (Meltano's layout), with uv when found
 * (`findUv`) else `python -m venv` + pip. A plugin whose fingerprint is unchanged is left alone unless
 * `clean`; plugins without pip_url are skipped. A new venv is built in a temporary directory and renamed
 * into place only when complete. Failures do not stop the other installs: they come back as results with
 * status 'failed' and an `error` (use `assertInstalled` for `meltano install`'s exit-1 behaviour).
 * Throws UserError only before installing anything: `UV` set to a non-executable, backend 'uv' without uv, or
 * parallelism < 1.
 */
export async function installPlugins(plugins: InstallablePlugin[], opts: InstallOptions): Promise<InstallResult[]> {
  const parallelism = opts.parallelism ?? 2;
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new UserError(`Install parallelism must be a whole number of at least 1, got ${parallelism}.`);
  }
  const env = opts.env ?? process.env;
  const uv = opts.backend === 'virtualenv' ? undefined : await findUv(opts.projectRoot, env);
  if (opts.backend === 'uv' && uv === undefined) {
    throw new UserError(
      "venv.backend is 'uv' but no uv was found (UV, .floe/tools/venv/bin/uv or PATH); run 'node scripts/ensure-tools.js' or set venv.backend to virtualenv.",
    );
  }
  const installer: Installer = uv !== undefined ? { kind: 'uv', uv } : { kind: 'pip' };
  return mapBounded(plugins, parallelism, (plugin) => installOne(plugin, opts, installer, env));
}

/**
 * Throws a RuntimeError naming every failed plugin and its error when any result failed (the CLI then
 * exits 1, as `meltano install` does); returns normally otherwise.
 */
export function assertInstalled(results: readonly InstallResult[]): void {
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length === 0) return;
  const details = failed.map((r) => r.error?.message ?? `${r.name}: unknown error`).join('\n');
  throw new RuntimeError(
    `Failed to install ${failed.length} of ${results.length} plugin(s): ${failed.map((r) => r.name).join(', ')}.\n${details}`,
  );
}
