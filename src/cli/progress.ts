/**
 * The live progress line of `floe run` on a terminal: one line, rewritten in place, with records per stream and
 * each stream's rate over the last interval. Off a terminal nothing is drawn (logs and CI stay clean).
 */
import type { StreamCounts } from '../shared/pipeline';

export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressSnapshot {
  elapsedMs: number;
  streams: Record<string, StreamCounts>;
  statesPersisted: number;
}

/** Formats a count with thousands separators (`12,345`). Never throws. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `850 ms`, `12.3 s`, `4 min 05 s`. Never throws. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

/**
 * One progress line: `<label> 12.3 s | users 1,200 (340/s) | orders 80 (12/s) | 2 states`. Rates compare with
 * `previous` (the snapshot drawn before); without one they are averages since the start. Never throws.
 */
export function progressLine(label: string, now: ProgressSnapshot, previous?: ProgressSnapshot): string {
  const parts = [`${label} ${formatDuration(now.elapsedMs)}`];
  const dt = (now.elapsedMs - (previous?.elapsedMs ?? 0)) / 1000;
  for (const [stream, counts] of Object.entries(now.streams)) {
    const before = previous?.streams[stream]?.records ?? 0;
    const rate = dt > 0 ? (counts.records - before) / dt : 0;
    parts.push(`${stream} ${formatCount(counts.records)} (${formatCount(rate)}/s)`);
  }
  parts.push(`${now.statesPersisted} state${now.statesPersisted === 1 ? '' : 's'}`);
  return parts.join(' | ');
}

export interface ProgressReporter {
  update(label: string, snapshot: ProgressSnapshot): void;
  /** Erases the line so the next output starts on a clean line. */
  clear(): void;
}

/** A reporter drawing on `sink` when it is a terminal, and doing nothing otherwise. Never throws. */
export function createProgressReporter(sink: ProgressSink): ProgressReporter {
  if (!sink.isTTY) return { update: () => undefined, clear: () => undefined };
  let previous: ProgressSnapshot | undefined;
  let drawn = false;
  return {
    update(label, snapshot) {
      const width = Math.max(20, (sink.columns ?? 120) - 1);
      let line = progressLine(label, snapshot, previous);
      if (line.length > width) line = `${line.slice(0, width - 1)}…`;
      previous = { ...snapshot, streams: structuredClone(snapshot.streams) };
      sink.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    clear() {
      if (drawn) sink.write('\r\x1b[2K');
      drawn = false;
      previous = undefined;
    },
  };
}
