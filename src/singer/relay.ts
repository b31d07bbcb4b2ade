/**
 * The streaming relay: runs one tap -> mappers -> target block and forwards raw stdout chunks from each
 * producer to the next consumer's stdin with back-pressure, counting the tap's RECORDs per stream on the
 * way (stream-counter.ts), handing every state line the target prints to `onState` in order, and ending
 * the run with Meltano's semantics for every termination order (meltano.md §4.3):
 * - tap exits (any code): EOF cascades downstream; the target finishes and its states are kept;
 * - target exits before its input ended: upstream plugins are stopped; only the target's code matters;
 * - a mapper fails or exits early: every plugin is stopped, "Mappers failed";
 * - a signal floe did not send, an overlong line, a state that cannot be persisted, or a plugin that
 *   cannot start fail the run; aborting `signal` cancels it.
 */
import { UserError } from '../shared/errors';
import { LineScanner } from './line-scanner';
import { closeQuietly, createOsPipes } from './os-pipes';
import { PluginProcess } from './plugin-process';
import { linkHop, type Hop } from './relay-hop';
import { decideOutcome, roleLabel, type RelayFailure } from './relay-outcome';
import {
  DEFAULT_HOP_BUFFER_BYTES,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_PROGRESS_INTERVAL_MS,
  type RelayOptions,
  type RelayPlugin,
  type RelayProgress,
  type RelayResult,
} from './relay-types';
import { TapOutputCounter } from './stream-counter';

/** The plugin list does not describe one tap, then mappers, then one target. */
export class RelayConfigError extends UserError {
  override readonly name: string = 'RelayConfigError';
}

export interface RelayHandle {
  /** Settles when every plugin has exited and every state was handled; never rejects. */
  readonly result: Promise<RelayResult>;
  getProgress(): RelayProgress;
}

// Keep this much of an overlong stderr line; the rest is counted, not logged.
const STDERR_HEAD_BYTES = 64 * 1024;

/**
 * Starts the relay and returns at once. Throws {@link RelayConfigError} when `plugins` is not one tap, 0..n
 * mappers and one target with unique names; every run-time problem is reported in the result instead.
 */
export function startRelay(opts: RelayOptions): RelayHandle {
  validatePlugins(opts.plugins);
  const relay = new Relay(opts);
  return { result: relay.run(), getProgress: () => relay.progress() };
}

/** Runs the relay to completion. Rejects only with {@link RelayConfigError} (see {@link startRelay}). */
export async function runRelay(opts: RelayOptions): Promise<RelayResult> {
  return startRelay(opts).result;
}

function validatePlugins(plugins: readonly RelayPlugin[]): void {
  const roles = plugins.map((p) => p.role).join(',');
  const ok =
    plugins.length >= 2 &&
    plugins[0]!.role === 'tap' &&
    plugins[plugins.length - 1]!.role === 'target' &&
    plugins.slice(1, -1).every((p) => p.role === 'mapper');
  if (!ok) {
    throw new RelayConfigError(
      `Relay plugins must be one tap, then zero or more mappers, then one target (got roles '${roles}'); fix the block so an extractor comes first and a loader last.`,
    );
  }
  const names = new Set<string>();
  for (const p of plugins) {
    if (names.has(p.name)) {
      throw new RelayConfigError(
        `Relay plugin name '${p.name}' appears twice; give each plugin of the block a distinct name.`,
      );
    }
    names.add(p.name);
  }
}

class Relay {
  private readonly maxLineBytes: number;
  private readonly graceMs: number;
  private readonly hopBufferBytes: number;
  private readonly startedAt = Date.now();
  private readonly counter = new TapOutputCounter();
  private readonly outputs: Record<string, { bytes: number; lines: number }> = {};
  private procs: PluginProcess[] = [];
  private hops: Hop[] = [];
  private scanners: LineScanner[] = [];
  private failure: RelayFailure | undefined;
  private mapperFailure: PluginProcess | undefined;
  private targetFirst = false;
  private cancelled = false;
  private stateChain: Promise<void> = Promise.resolve();
  private statesEmitted = 0;
  private lastState: unknown;
  private hasLastState = false;
  private maxBuffered = 0;

  constructor(private readonly opts: RelayOptions) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.hopBufferBytes = opts.hopBufferBytes ?? DEFAULT_HOP_BUFFER_BYTES;
    for (const p of opts.plugins) this.outputs[p.name] = { bytes: 0, lines: 0 };
  }

  async run(): Promise<RelayResult> {
    const signal = this.opts.signal;
    if (signal?.aborted) {
      this.cancelled = true;
      return this.result();
    }
    // Each hop gets two kernel pipes (producer -> floe, floe -> consumer); see os-pipes.ts.
    const plugins = this.opts.plugins;
    const pipes = this.opts.socketpairs ? undefined : await createOsPipes(2 * (plugins.length - 1));
    if (signal?.aborted) {
      for (const p of pipes ?? []) for (const fd of [p.readFd, p.writeFd]) closeQuietly(fd);
      this.cancelled = true;
      return this.result();
    }
    // Start every process before linking any I/O, as Meltano does (meltano.md §4.2).
    this.procs = plugins.map(
      (p, i) =>
        new PluginProcess(
          p,
          this.graceMs,
          (plugin) =>
            this.log(
              plugin.name,
              'warn',
              `${roleLabel(plugin)} '${plugin.name}' exited but its child processes kept its pipes open; killed its process group.`,
            ),
          pipes ? { stdin: pipes[2 * i - 1], stdout: pipes[2 * i] } : {},
        ),
    );
    for (let i = 0; i + 1 < this.procs.length; i++) this.linkHop(this.procs[i]!, this.procs[i + 1]!);
    this.linkStateOutput(this.procs[this.procs.length - 1]!);
    for (const p of this.procs) {
      this.linkStderr(p);
      p.onExit(() => this.handleExit(p));
    }
    const onAbort = (): void => {
      this.cancelled = true;
      this.stopAll();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const interval = this.opts.onProgress
      ? setInterval(() => this.emitProgress(), this.opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS)
      : undefined;
    try {
      await Promise.all(this.procs.map((p) => p.closed));
      await this.stateChain;
    } finally {
      if (interval) clearInterval(interval);
      signal?.removeEventListener('abort', onAbort);
    }
    this.emitProgress();
    return this.result();
  }

  progress(): RelayProgress {
    const streams: RelayProgress['streams'] = {};
    for (const [name, c] of this.counter.streams) streams[name] = { records: c.records, bytes: c.bytes };
    const outputs: RelayProgress['outputs'] = {};
    for (const [name, o] of Object.entries(this.outputs)) outputs[name] = { ...o };
    return {
      elapsedMs: Date.now() - this.startedAt,
      streams,
      totals: {
        records: this.counter.records,
        bytes: this.outputs[this.opts.plugins[0]!.name]!.bytes,
        lines: this.counter.lines,
        malformedLines: this.counter.malformedLines,
      },
      outputs,
      statesEmitted: this.statesEmitted,
      bufferedBytes: this.bufferedBytes(),
      maxBufferedBytes: this.maxBuffered,
    };
  }

  private linkHop(producer: PluginProcess, consumer: PluginProcess): void {
    const isTap = producer.plugin.role === 'tap';
    const hop = linkHop(producer, consumer, {
      maxLineBytes: this.maxLineBytes,
      hopBufferBytes: this.hopBufferBytes,
      counter: isTap ? this.counter : undefined,
      output: this.outputs[producer.plugin.name]!,
      onOverflow: () => this.overflow(producer.plugin),
      onForwarded: () => this.trackBuffered(),
      mapperSucceeded: (mapper) => mapper.exit?.code === 0 && this.mapperFailure === undefined,
    });
    this.hops.push(hop);
    this.scanners.push(hop.scanner);
  }

  private linkStateOutput(target: PluginProcess): void {
    const output = this.outputs[target.plugin.name]!;
    const scanner = new LineScanner({
      maxLineBytes: this.maxLineBytes,
      headBytes: Infinity,
      onLine: (buf, start, end) => {
        const line = buf.toString('utf8', start, end).trim();
        if (line === '') return;
        output.lines++;
        this.handleStateLine(target.plugin, line);
      },
      onOverflow: () => this.overflow(target.plugin),
    });
    this.scanners.push(scanner);
    const out = target.stdout;
    out.on('data', (chunk: Buffer) => {
      output.bytes += chunk.length;
      scanner.push(chunk);
    });
    out.on('end', () => scanner.end());
  }

  private handleStateLine(target: RelayPlugin, line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // Meltano's BookmarkWriter warns and skips lines that are not JSON (meltano.md §5.2).
      const shown = line.length > 200 ? `${line.slice(0, 200)}...` : line;
      this.log(
        target.name,
        'warn',
        `Loader '${target.name}' wrote a stdout line that is not JSON, so it is not a state and was skipped: ${shown}`,
      );
      return;
    }
    this.statesEmitted++;
    const onState = this.opts.onState;
    this.stateChain = this.stateChain.then(async () => {
      if (this.failure?.reason === 'state_persistence') return;
      try {
        if (onState) await onState(value, line);
        this.lastState = value;
        this.hasLastState = true;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.fail({
          reason: 'state_persistence',
          message: `Persisting the state that loader '${target.name}' emitted failed (${why}); the run was stopped so stored state cannot drift from the loaded data, fix the state backend and rerun.`,
        });
      }
    });
  }

  private linkStderr(p: PluginProcess): void {
    const scanner = new LineScanner({
      maxLineBytes: Infinity,
      headBytes: STDERR_HEAD_BYTES,
      onLine: (buf, start, end, lineBytes) => {
        let line = buf.toString('utf8', start, end);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (lineBytes > end - start) line += ` [... ${lineBytes - (end - start)} more bytes not logged]`;
        this.emitLog({ plugin: p.plugin.name, stream: 'stderr', level: 'info', line });
      },
      onOverflow: () => undefined,
    });
    this.scanners.push(scanner);
    const err = p.child.stderr!;
    err.on('data', (chunk: Buffer) => scanner.push(chunk));
    err.on('end', () => scanner.end());
  }

  private handleExit(p: PluginProcess): void {
    if (p.spawnError) {
      this.fail({
        reason: 'spawn',
        message: `Could not start ${roleLabel(p.plugin).toLowerCase()} '${p.plugin.name}' (command '${p.plugin.command}'): ${p.spawnError.message}; install the plugin or fix its executable and rerun.`,
      });
      return;
    }
    const role = p.plugin.role;
    const idx = this.procs.indexOf(p);
    if (role === 'target') {
      const input = this.hops[this.hops.length - 1]!;
      if (!input.inputEnded && this.procs.slice(0, idx).some((u) => !u.hasExited)) {
        this.targetFirst = true;
        if (!this.cancelled && this.failure === undefined) {
          this.log(
            p.plugin.name,
            'warn',
            `Loader '${p.plugin.name}' exited before its input ended; stopping the plugins upstream of it.`,
          );
        }
        for (const u of this.procs.slice(0, idx)) u.terminate();
      }
    } else if (role === 'mapper' && !p.signalledByFloe) {
      const input = this.hops[idx - 1]!;
      if (p.exit?.code !== 0 || !input.inputEnded) {
        this.mapperFailure ??= p;
        this.stopAll();
      }
    }
  }

  private overflow(plugin: RelayPlugin): void {
    const bufferSize = this.maxLineBytes * 2;
    this.fail({
      reason: 'line_too_long',
      message: `${roleLabel(plugin)} '${plugin.name}' wrote a line longer than ${this.maxLineBytes} bytes (half of elt.buffer_size = ${bufferSize}); raise elt.buffer_size above twice the longest message, or make the plugin write smaller messages.`,
    });
  }

  private fail(failure: RelayFailure): void {
    this.failure ??= failure;
    this.stopAll();
  }

  private stopAll(): void {
    for (const p of this.procs) p.terminate();
  }

  private bufferedBytes(): number {
    let n = 0;
    for (const h of this.hops) n += h.consumer.stdin?.writableLength ?? 0;
    for (const s of this.scanners) n += s.bufferedBytes;
    return n;
  }

  private trackBuffered(): void {
    const n = this.bufferedBytes();
    if (n > this.maxBuffered) this.maxBuffered = n;
  }

  private emitProgress(): void {
    this.trackBuffered();
    if (!this.opts.onProgress) return;
    try {
      this.opts.onProgress(this.progress());
    } catch {
      // A progress observer must not break the run.
    }
  }

  private log(plugin: string, level: 'info' | 'warn', line: string): void {
    this.emitLog({ plugin, stream: 'relay', level, line });
  }

  private emitLog(entry: Parameters<NonNullable<RelayOptions['onLog']>>[0]): void {
    try {
      this.opts.onLog?.(entry);
    } catch {
      // A log observer must not break the run.
    }
  }

  private result(): RelayResult {
    const progress = this.progress();
    const exitCodes: RelayResult['exitCodes'] = {};
    for (const p of this.opts.plugins) exitCodes[p.name] = null;
    for (const p of this.procs) exitCodes[p.plugin.name] = p.exitCode;
    const outcome = decideOutcome({
      procs: this.procs,
      cancelled: this.cancelled,
      failure: this.failure,
      mapperFailure: this.mapperFailure,
      targetFirst: this.targetFirst,
      graceMs: this.graceMs,
    });
    return {
      ...outcome,
      exitCodes,
      streams: progress.streams,
      totals: progress.totals,
      outputs: progress.outputs,
      statesEmitted: this.statesEmitted,
      ...(this.hasLastState ? { lastState: this.lastState } : {}),
      durationMs: Date.now() - this.startedAt,
      maxBufferedBytes: this.maxBuffered,
    };
  }
}
