/**
 * One plugin process of a relay run: spawned in its own process group, because plugin executables are
 * often wrappers (venv shims, shell scripts) that fork, and stopping the wrapper alone would orphan the
 * real plugin. Tracks whether floe sent the signal that ended it: SDK plugins trap SIGTERM and exit 0
 * (singer.md §3), so the exit code alone cannot tell a cancelled run from a successful one. The data path
 * (stdin of consumers, stdout of producers) uses kernel pipes when the relay made them (os-pipes.ts), as a
 * shell or Meltano's asyncio subprocesses would; stderr and the target's state output stay Node's pipes.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { closeQuietly, type OsPipe } from './os-pipes';
import type { RelayPlugin } from './relay-types';

/** Kernel pipes (os-pipes.ts) to use for the plugin's stdin and stdout instead of Node's socketpairs. */
export interface PluginPipes {
  stdin?: OsPipe;
  stdout?: OsPipe;
}

export interface PluginExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PluginProcess {
  readonly child: ChildProcess;
  /** What the plugin reads: null for a tap (it gets /dev/null). */
  readonly stdin: Writable | null;
  /** What the plugin writes. */
  readonly stdout: Readable;
  /** True when `stdout` is a kernel pipe (64 KiB), false for Node's socketpair. */
  readonly stdoutIsPipe: boolean;
  exit: PluginExit | undefined;
  spawnError: Error | undefined;
  /** True once floe has sent this plugin SIGTERM or SIGKILL. */
  signalledByFloe = false;
  /** Settles once the process has exited and its stdio pipes are closed (or it failed to start). */
  readonly closed: Promise<void>;
  private isClosed = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly exitListeners: Array<() => void> = [];
  /** The child's own 'close' plus the close of each kernel-pipe end floe reads from. */
  private closesNeeded = 1;
  private resolveClosed: (() => void) | undefined;

  /**
   * Starts the plugin. Never throws for a missing executable: that surfaces as `spawnError` and a closed
   * process. `onOrphanKill` is told when descendants kept the pipes open after the plugin exited.
   */
  constructor(
    readonly plugin: RelayPlugin,
    private readonly graceMs: number,
    private readonly onOrphanKill: (plugin: RelayPlugin) => void,
    pipes: PluginPipes = {},
  ) {
    const isTap = plugin.role === 'tap';
    const stdinPipe = isTap ? undefined : pipes.stdin;
    // Meltano pipes stdin only into consumers (meltano.md §4.2); a tap gets /dev/null.
    const stdio: StdioOptions = [
      isTap ? 'ignore' : (stdinPipe?.readFd ?? 'pipe'),
      pipes.stdout?.writeFd ?? 'pipe',
      'pipe',
    ];
    try {
      this.child = spawn(plugin.command, [...plugin.args], {
        cwd: plugin.cwd,
        env: plugin.env ?? process.env,
        detached: true,
        stdio,
      });
    } catch (err) {
      // spawn() throws only for invalid arguments; floe's ends would leak otherwise.
      if (stdinPipe) closeQuietly(stdinPipe.writeFd);
      if (pipes.stdout) closeQuietly(pipes.stdout.readFd);
      throw err;
    } finally {
      // The plugin holds its own copies now; floe must not keep them, or EOF would never come.
      if (stdinPipe) closeQuietly(stdinPipe.readFd);
      if (pipes.stdout) closeQuietly(pipes.stdout.writeFd);
    }
    this.stdin = stdinPipe ? new Socket({ fd: stdinPipe.writeFd, readable: false, writable: true }) : this.child.stdin;
    this.stdoutIsPipe = pipes.stdout !== undefined;
    if (pipes.stdout) {
      const out = new Socket({ fd: pipes.stdout.readFd, readable: true, writable: false });
      this.closesNeeded++;
      out.on('close', () => this.closeOne());
      this.stdout = out;
    } else {
      this.stdout = this.child.stdout!;
    }
    this.child.on('error', (err) => {
      if (this.child.pid !== undefined) return;
      this.spawnError = err;
      // Never started: nobody will write to or read from floe's ends of the kernel pipes.
      if (stdinPipe) this.stdin?.destroy();
      if (pipes.stdout) this.stdout.destroy();
      for (const l of this.exitListeners) l();
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      // As Node does for its own stdin pipe: nothing reads it any more.
      if (stdinPipe) this.stdin?.destroy();
      // Descendants that inherited stdout/stderr would keep the run open forever: give them the grace, then kill.
      if (!this.isClosed) {
        // Replaces terminate()'s SIGKILL timer: a leaked one would keep floe alive for the grace and later
        // signal a process group whose id may have been reused.
        if (this.killTimer) clearTimeout(this.killTimer);
        this.killTimer = setTimeout(() => {
          this.onOrphanKill(this.plugin);
          this.killGroup('SIGKILL');
        }, this.graceMs);
      }
      for (const l of this.exitListeners) l();
    });
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
      this.child.on('close', () => this.closeOne());
    });
  }

  private closeOne(): void {
    if (--this.closesNeeded > 0) return;
    this.isClosed = true;
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.exit === undefined && this.spawnError === undefined) this.exit = { code: null, signal: null };
    this.resolveClosed?.();
  }

  get hasExited(): boolean {
    return this.exit !== undefined || this.spawnError !== undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Called once when the process exits or fails to start. */
  onExit(listener: () => void): void {
    this.exitListeners.push(listener);
  }

  /** SIGTERM the process group now and SIGKILL it after the grace unless it has closed by then. */
  terminate(): void {
    if (this.isClosed || this.child.pid === undefined) return;
    this.killGroup('SIGTERM');
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.killGroup('SIGKILL'), this.graceMs);
  }

  /** The exit as reported in a result: the code, else the signal name, else null (never started). */
  get exitCode(): number | string | null {
    if (this.exit === undefined) return null;
    return this.exit.code ?? this.exit.signal ?? null;
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    // A signal sent after the leader exited (to reap its forks) does not explain the leader's exit.
    if (this.exit === undefined) this.signalledByFloe = true;
    try {
      // Negative pid: the whole group the detached spawn created, wrapper and forks alike.
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
