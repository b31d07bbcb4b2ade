/**
 * `floe` as a user types it: `node bin/floe.js <args>` in a process of its own, with the project as working
 * directory. `floe()` runs one command to its end; `startWorker()` keeps a `floe worker` running and lets a test
 * stop it gracefully (SIGTERM) or kill it (SIGKILL) mid-run.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const FLOE_BIN = path.resolve(__dirname, '..', '..', 'bin', 'floe.js');

export interface FloeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface FloeProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number;
}

/** Runs `floe <args>` to its end; resolves with exit code and both outputs. Never rejects. */
export function floe(args: string[], opts: FloeProcessOptions): Promise<FloeRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FLOE_BIN, ...args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${err.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Like `floe()`, but throws with both outputs when the exit code is not `expected` (default 0). */
export async function floeOk(args: string[], opts: FloeProcessOptions, expected = 0): Promise<FloeRun> {
  const r = await floe(args, opts);
  if (r.code !== expected) {
    throw new Error(
      `'floe ${args.join(' ')}' exited with ${String(r.code ?? r.signal)} (expected ${expected}):\n` +
        `stdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  return r;
}

export interface FloeWorker {
  pid: number;
  child: ChildProcess;
  /** Everything the worker wrote to stderr and stdout so far. */
  output(): string;
  /** Resolves once the worker printed its "Worker polling" line; throws when it exits first or times out. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful: running plugins are stopped), SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL the worker process only (its plugin processes are left to die of their closed pipes). */
  kill(): Promise<void>;
  exited: Promise<number | string>;
}

const live = new Set<ChildProcess>();
let hookInstalled = false;

/** Starts `floe worker <args>`; the process is killed when the test process exits without stopping it. */
export function startWorker(args: string[], opts: FloeProcessOptions): FloeWorker {
  const child = spawn(process.execPath, [FLOE_BIN, 'worker', ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  let exitedWith: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exitedWith = code ?? signal ?? 'unknown';
      resolve(exitedWith);
    });
  });
  const waitExit = async (graceMs: number): Promise<void> => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => out,
    ready: async (timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes('Worker polling task queue')) {
        if (exitedWith !== undefined)
          throw new Error(`floe worker exited (${exitedWith}) before it was ready:\n${out}`);
        if (Date.now() > deadline) throw new Error(`floe worker was not ready within ${timeoutMs} ms:\n${out}`);
        await sleep(200);
      }
    },
    stop: async (graceMs = 45_000) => {
      if (exitedWith !== undefined) return;
      child.kill('SIGTERM');
      await waitExit(graceMs);
    },
    kill: async () => {
      if (exitedWith !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Process IDs of every descendant of `pid` (from /proc), children before grandchildren. */
export function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may contain spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // the process exited while we looked
    }
  }
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        result.push(child);
        queue.push(child);
      }
    }
  }
  return result;
}

/** The command line of a process ('' once it has exited). */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Descendants of `pid` whose command line contains `needle` (e.g. `bin/target-postgres`). */
export function findDescendants(pid: number, needle: string): number[] {
  return descendantsOf(pid).filter((p) => cmdlineOf(p).includes(needle));
}

/** Polls `check` every `everyMs` until it returns a value other than undefined; throws `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
