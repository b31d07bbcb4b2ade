/**
 * One plugin process of a relay run: spawned in its own process group, because plugin executables are
 * often wrappers (venv shims, shell scripts) that fork, and stopping the wrapper alone would orphan the
 * real plugin. Tracks whether floe sent the signal that ended it: SDK plugins trap SIGTERM and exit 0
 * (singer.md §3), so the exit code alone cannot tell a cancelled run from a successful one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { RelayPlugin } from './relay-types';

export interface PluginExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PluginProcess {
  readonly child: ChildProcess;
  exit: PluginExit | undefined;
  spawnError: Error | undefined;
  /** True once floe has sent this plugin SIGTERM or SIGKILL. */
  signalledByFloe = false;
  /** Settles once the process has exited and its stdio pipes are closed (or it failed to start). */
  readonly closed: Promise<void>;
  private isClosed = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly exitListeners: Array<() => void> = [];

  /**
   * Starts the plugin. Never throws for a missing executable: that surfaces as `spawnError` and a closed
   * process. `onOrphanKill` is told when descendants kept the pipes open after the plugin exited.
   */
  constructor(
    readonly plugin: RelayPlugin,
    private readonly graceMs: number,
    private readonly onOrphanKill: (plugin: RelayPlugin) => void,
  ) {
    this.child = spawn(plugin.command, [...plugin.args], {
      cwd: plugin.cwd,
      env: plugin.env ?? process.env,
      detached: true,
      // Meltano pipes stdin only into consumers (meltano.md §4.2); a tap gets /dev/null.
      stdio: [plugin.role === 'tap' ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    this.child.on('error', (err) => {
      if (this.child.pid !== undefined) return;
      this.spawnError = err;
      for (const l of this.exitListeners) l();
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
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
      this.child.on('close', () => {
        this.isClosed = true;
        if (this.killTimer) clearTimeout(this.killTimer);
        if (this.exit === undefined && this.spawnError === undefined) this.exit = { code: null, signal: null };
        resolve();
      });
    });
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
