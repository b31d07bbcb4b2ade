import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code, or null when the process was killed by a signal or could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stdout and stderr interleaved, for error messages. */
  tail: string[];
  /** Set when the process could not be started (e.g. ENOENT). */
  spawnError?: Error;
}

const TAIL_LINES = 25;

/**
 * Runs a command to completion, streaming each output line to `onLine` and keeping the last lines for
 * error messages. Never rejects: start failures come back as `spawnError`.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    const take = (line: string): void => {
      if (line.trim() === '') return;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      opts.onLine?.(line);
    };
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (pending + chunk).split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        lines.forEach(take);
      });
      stream.on('end', () => take(pending));
    }
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => resolve({ code, signal, tail, ...(spawnError ? { spawnError } : {}) }));
  });
}
