/**
 * Meltano itself, for side-by-side benchmarks: installed from PyPI with the project's own uv into a bench-only
 * venv `.floe/bench/meltano-venv` (inside .floe/, so outside git), never into a plugin venv or the user's PATH.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../src/shared/errors';

/** The Meltano release compared against (the newest on PyPI when the benchmark was written). */
export const MELTANO_VERSION = '4.4.1';

/** Relative to the repository root. */
export const MELTANO_VENV = path.join('.floe', 'bench', 'meltano-venv');

export interface MeltanoInstall {
  /** Absolute path of the `meltano` executable. */
  meltano: string;
  /** What `meltano --version` printed, e.g. `meltano, version 4.4.1`. */
  version: string;
  /** True when this call installed it (the install time is then in `installSeconds`). */
  installed: boolean;
  installSeconds?: number;
}

/**
 * Environment for running `meltano` in a bench: no usage statistics (there is no internet here and a tracking
 * call would add its timeout to every run), no update check, and no venv of the caller leaking in.
 */
export function meltanoEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    MELTANO_SEND_ANONYMOUS_USAGE_STATS: 'false',
    MELTANO_DISABLE_TRACKING: 'true',
  };
  delete env.VIRTUAL_ENV;
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  return env;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function versionOf(meltano: string): Promise<string | undefined> {
  if (!fs.existsSync(meltano)) return undefined;
  const r = await run(meltano, ['--version'], meltanoEnv());
  const line = r.stdout.split('\n').find((l) => l.startsWith('meltano, version'));
  return r.code === 0 ? line?.trim() : undefined;
}

async function provisionedUv(repoRoot: string): Promise<string> {
  const uv = path.join(repoRoot, '.floe', 'tools', 'venv', 'bin', 'uv');
  if (fs.existsSync(uv)) return uv;
  const r = await run(process.execPath, [path.join(repoRoot, 'scripts', 'ensure-tools.js'), '--root', repoRoot]);
  if (r.code !== 0 || !fs.existsSync(uv)) {
    throw new RuntimeError(
      `uv could not be provisioned into ${path.dirname(uv)} for the Meltano benchmark: ${r.stderr.trim() || `exit code ${r.code}`}; run 'node scripts/ensure-tools.js' and retry.`,
    );
  }
  return uv;
}

/**
 * Returns Meltano `version` from `<repoRoot>/.floe/bench/meltano-venv`, installing it there with uv first when
 * it is missing or another version (`node scripts/ensure-tools.js` provides uv when needed).
 * @throws RuntimeError when uv cannot be provisioned or the install fails (the message carries uv's output).
 */
export async function ensureMeltano(repoRoot: string, version = MELTANO_VERSION): Promise<MeltanoInstall> {
  const venv = path.join(repoRoot, MELTANO_VENV);
  const meltano = path.join(venv, 'bin', 'meltano');
  const found = await versionOf(meltano);
  if (found === `meltano, version ${version}`) return { meltano, version: found, installed: false };
  const uv = await provisionedUv(repoRoot);
  const started = Date.now();
  const steps: string[][] = [
    ['venv', '--python', 'python3.11', '--seed', '--allow-existing', venv],
    ['pip', 'install', '--python', path.join(venv, 'bin', 'python'), `meltano==${version}`],
  ];
  for (const args of steps) {
    const r = await run(uv, args);
    if (r.code !== 0) {
      throw new RuntimeError(
        `Installing meltano==${version} into ${venv} failed (uv ${args[0]} exit ${r.code}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}; check PyPI access and retry.`,
      );
    }
  }
  const installed = await versionOf(meltano);
  if (installed === undefined) {
    throw new RuntimeError(
      `meltano==${version} was installed into ${venv} but '${meltano} --version' fails; remove ${venv} and retry.`,
    );
  }
  return { meltano, version: installed, installed: true, installSeconds: (Date.now() - started) / 1000 };
}
