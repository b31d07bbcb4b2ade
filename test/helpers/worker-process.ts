/**
 * A real `floe worker` in a process of its own (`node bin/floe.js worker --no-sync`), for tests that kill or
 * signal a worker mid-run. It talks to the shared test server (`getTestTemporal()`), polls a task queue of the
 * test's own, and runs the project at `projectRoot` (also its working directory). Its output is captured so a
 * failing test can show what the worker said.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './temporal';

export interface WorkerProcessOptions {
  projectRoot: string;
  address: string;
  namespace: string;
  taskQueue: string;
  /** Extra environment (plugin settings, secrets) on top of this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the worker's "polling" line. Default 60 s (the workflow bundle takes seconds). */
  readyTimeoutMs?: number;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Sends `signal` to the worker process only (its plugins run in process groups of their own). */
  kill(signal: NodeJS.Signals): void;
  /** SIGKILLs the worker if it is still running and waits for it to exit; for `finally` blocks. */
  dispose(): Promise<void>;
}

const READY_LINE = 'Worker polling task queue';

/**
 * Starts the worker and resolves once it polls.
 * @throws Error (with the worker's output) when it exits or is not polling within `readyTimeoutMs`.
 */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), 'worker', '--no-sync'], {
    cwd: opts.projectRoot,
    env: {
      ...process.env,
      ...opts.env,
      TEMPORAL_ADDRESS: opts.address,
      TEMPORAL_NAMESPACE: opts.namespace,
      FLOE_TASK_QUEUE: opts.taskQueue,
      MELTANO_PROJECT_ROOT: opts.projectRoot,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<WorkerExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const proc: WorkerProcess = {
    pid: child.pid as number,
    child,
    exited,
    output: () => out,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    dispose: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let gone: WorkerExit | undefined;
  void exited.then((e) => (gone = e));
  while (!out.includes(READY_LINE)) {
    if (gone || Date.now() > deadline) {
      await proc.dispose();
      throw new Error(
        `floe worker in ${opts.projectRoot} ${gone ? `exited (${gone.code ?? gone.signal})` : 'did not start polling in time'} before polling; its output:\n${out}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}

/** True while `pid` is a live process (a zombie, exited but not reaped by its new parent, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." where S is the state; comm may contain spaces and parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
