/**
 * Types and defaults of the Singer relay (relay.ts).
 *
 * Terminology: the *relay* runs one extract-load block: a tap (extractor), 0..n mappers and a target
 * (loader), wired tap.stdout -> mapper.stdin ... -> target.stdin. A *hop* is one producer's stdout feeding
 * the next consumer's stdin. The target's stdout carries bare state values (singer.md §4).
 */
import type { StreamCounts } from './stream-counter';

export type { StreamCounts } from './stream-counter';

export type PluginRole = 'tap' | 'mapper' | 'target';

/** A plugin process whose command, arguments and environment are already resolved. */
export interface RelayPlugin {
  name: string;
  role: PluginRole;
  command: string;
  args: readonly string[];
  /** The complete environment of the process; `undefined` inherits this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RelayLogEntry {
  plugin: string;
  /** `stderr`: a line the plugin wrote; `relay`: something the relay noticed about the plugin. */
  stream: 'stderr' | 'relay';
  level: 'info' | 'warn';
  line: string;
}

export interface RelayProgress {
  elapsedMs: number;
  /** RECORDs the tap wrote, per stream (streams appear on their first SCHEMA or RECORD). */
  streams: Record<string, StreamCounts>;
  totals: RelayTotals;
  /** Bytes each plugin wrote on stdout (one entry per hop, plus the target's state output). */
  outputs: Record<string, { bytes: number; lines: number }>;
  statesEmitted: number;
  /** Bytes currently held by the relay (unflushed pipe writes plus partial lines); bounded by back-pressure. */
  bufferedBytes: number;
  maxBufferedBytes: number;
}

export interface RelayTotals {
  records: number;
  /** All bytes of the tap's stdout. */
  bytes: number;
  /** Non-empty lines of the tap's stdout. */
  lines: number;
  /** Tap lines that were not JSON objects with a `type` (forwarded untouched all the same). */
  malformedLines: number;
}

export interface RelayOptions {
  /** Exactly one tap first, then any mappers, then exactly one target. */
  plugins: readonly RelayPlugin[];
  /** Meltano's `elt.buffer_size // 2` (meltano.md §4.2); default {@link DEFAULT_MAX_LINE_BYTES}. */
  maxLineBytes?: number;
  /** Called for every state line the target emits, in order; the next one waits until this settles. */
  onState?: (value: unknown, rawLine: string) => Promise<void> | void;
  onLog?: (entry: RelayLogEntry) => void;
  onProgress?: (progress: RelayProgress) => void;
  /** Default 1000 ms. */
  progressIntervalMs?: number;
  /** Aborting SIGTERMs every plugin's process group, then SIGKILLs after `killGraceMs`. */
  signal?: AbortSignal;
  /**
   * Bytes the relay may hold per hop before it pauses the producer (back-pressure). Default
   * {@link DEFAULT_HOP_BUFFER_BYTES}; memory stays below this plus one 64 KiB read per hop.
   */
  hopBufferBytes?: number;
  /** How long a plugin gets between SIGTERM and SIGKILL. Default 10,000 ms. */
  killGraceMs?: number;
  /**
   * Use Node's socketpairs for the data path instead of kernel pipes (os-pipes.ts). For comparisons in the
   * relay benchmark; floe falls back to socketpairs by itself where it cannot make pipes.
   */
  socketpairs?: boolean;
}

export type RelayStatus = 'succeeded' | 'failed' | 'cancelled';

/** Why a run failed, for mapping to a failure type at the activity boundary. */
export type RelayFailureReason =
  | 'extractor'
  | 'loader'
  | 'extractor_and_loader'
  | 'mapper'
  | 'signal'
  | 'line_too_long'
  | 'state_persistence'
  | 'spawn';

export interface RelayResult {
  status: RelayStatus;
  message?: string;
  reason?: RelayFailureReason;
  /** Exit code, or the signal name when a plugin was killed by a signal; `null` if it never started. */
  exitCodes: Record<string, number | string | null>;
  streams: Record<string, StreamCounts>;
  totals: RelayTotals;
  outputs: Record<string, { bytes: number; lines: number }>;
  statesEmitted: number;
  lastState?: unknown;
  durationMs: number;
  maxBufferedBytes: number;
}

/** Meltano's runtime default for `elt.buffer_size` (meltano.md §1.7: 100 MiB, not the schema's 10 MiB). */
export const DEFAULT_ELT_BUFFER_SIZE = 104_857_600;

/** Meltano reads lines with a limit of half the buffer (meltano.md §4.2). */
export function maxLineBytesFromBufferSize(eltBufferSize: number): number {
  return Math.floor(eltBufferSize / 2);
}

export const DEFAULT_MAX_LINE_BYTES = maxLineBytesFromBufferSize(DEFAULT_ELT_BUFFER_SIZE);
export const DEFAULT_KILL_GRACE_MS = 10_000;
// Measured: 16 KiB (Node's default), 1 MiB and 4 MiB gave the same throughput within noise; keep it small.
export const DEFAULT_HOP_BUFFER_BYTES = 256 * 1024;
export const DEFAULT_PROGRESS_INTERVAL_MS = 1_000;
