/**
 * One hop of the relay: a producer's stdout forwarded chunk by chunk to the next consumer's stdin, with
 * back-pressure (the producer is paused while the consumer's unflushed bytes exceed the allowance), line
 * scanning for the length limit and, on the tap's hop, RECORD counting. EOF cascades from a tap always and
 * from a mapper only if it succeeded.
 */
import { LineScanner } from './line-scanner';
import { HOLD_MS, ReadHold } from './read-hold';
import type { PluginProcess } from './plugin-process';
import type { TapOutputCounter } from './stream-counter';

export interface Hop {
  producer: PluginProcess;
  consumer: PluginProcess;
  scanner: LineScanner;
  /** False once the consumer's stdin failed or closed, or a line overflowed: data is then discarded. */
  sinkOpen: boolean;
  /** The producer's stdout reached EOF. */
  inputEnded: boolean;
}

export interface HopContext {
  maxLineBytes: number;
  hopBufferBytes: number;
  /** Set for the tap's hop only: what the tap extracted is counted there. */
  counter: TapOutputCounter | undefined;
  output: { bytes: number; lines: number };
  onOverflow: (hop: Hop) => void;
  onForwarded: () => void;
  mapperSucceeded: (mapper: PluginProcess) => boolean;
}

// Enough of a chunk-spanning tap line to classify it without the rest (type and stream come first).
const TAP_HEAD_BYTES = 4 * 1024;

/** Wires the hop; never throws (pipe errors such as EPIPE close the sink instead). */
export function linkHop(producer: PluginProcess, consumer: PluginProcess, ctx: HopContext): Hop {
  const out = producer.stdout;
  const sink = consumer.stdin!;
  const { counter, output } = ctx;
  const hop: Hop = {
    producer,
    consumer,
    sinkOpen: true,
    inputEnded: false,
    scanner: new LineScanner({
      maxLineBytes: ctx.maxLineBytes,
      headBytes: counter ? TAP_HEAD_BYTES : 0,
      wantWholeLine: counter?.wantWholeLine,
      onLine: counter ? counter.onLine : () => void output.lines++,
      onOverflow: () => {
        hop.sinkOpen = false;
        ctx.onOverflow(hop);
      },
    }),
  };
  // With the default high-water mark a paused socket keeps reading up to 16 KiB into its buffer, one message
  // per read; with 1 it stops after one more read, so a pause (back-pressure or hold) stops the reads too.
  const state = (out as unknown as { _readableState?: { highWaterMark?: unknown } })._readableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = 1;
  let waitingDrain = false;
  // Batches the reads of a producer that flushes every message (read-hold.ts).
  const hold = new ReadHold({ pipe: producer.stdoutIsPipe });
  let holdTimer: NodeJS.Timeout | undefined;
  const release = (): void => {
    holdTimer = undefined;
    hold.release();
    if (!waitingDrain) out.resume();
  };
  const cancelHold = (): void => {
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = undefined;
    hold.cancel();
  };
  const closeSink = (): void => {
    // The consumer is gone (EPIPE, exit): keep draining the producer so it never blocks on a full pipe.
    hop.sinkOpen = false;
    cancelHold();
    if (waitingDrain) waitingDrain = false;
    out.resume();
  };
  sink.on('error', closeSink);
  sink.on('close', closeSink);
  out.on('data', (chunk: Buffer) => {
    output.bytes += chunk.length;
    const scanned = hop.scanner.push(chunk);
    if (counter) output.lines = counter.lines;
    if (!scanned || !hop.sinkOpen || sink.destroyed) return;
    const below = sink.write(chunk);
    ctx.onForwarded();
    // Pausing at Node's 16 KiB mark would make the producer wait on every scheduling hiccup of the consumer;
    // a larger fixed allowance keeps both busy. Only pause when write() said so: then 'drain' will come.
    if (!below && sink.writableLength >= ctx.hopBufferBytes && !waitingDrain) {
      waitingDrain = true;
      out.pause();
      sink.once('drain', () => {
        if (!waitingDrain) return;
        waitingDrain = false;
        if (holdTimer === undefined) out.resume();
      });
    }
    if (hold.afterRead(chunk.length, output.bytes, output.lines)) {
      if (waitingDrain) {
        hold.cancel();
      } else {
        out.pause();
        holdTimer = setTimeout(release, HOLD_MS);
      }
    }
  });
  out.on('end', () => {
    cancelHold();
    hop.scanner.end();
    if (counter) output.lines = counter.lines;
    hop.inputEnded = true;
    const endSink = (): void => {
      if (hop.sinkOpen && !hop.scanner.hasOverflowed) sink.end();
    };
    const afterMapper = (): void => {
      if (ctx.mapperSucceeded(producer)) endSink();
    };
    // A tap's EOF always cascades (the target keeps what it got, meltano.md §4.3); a mapper's only if it
    // succeeded, otherwise the target would take a truncated stream for a complete one.
    if (producer.plugin.role === 'tap') endSink();
    else if (producer.hasExited) afterMapper();
    else producer.onExit(afterMapper);
  });
  return hop;
}
