/**
 * When to hold a producer's stdout unread for a moment so that its messages pile up and are read at once.
 *
 * Singer SDK plugins write and flush every message, and the relay is faster than they are, so without holds
 * it reads, scans and forwards one ~230-byte message per wake-up: ~7 µs of relay CPU per message (Node
 * allocates a 64 KiB buffer per read), a core's worth at SDK rates. After two small reads in a row the
 * producer is held for {@link HOLD_MS}: its messages pile up in the kernel pipe and the next read takes
 * them all (relay CPU per MB measured 12–14 -> 2.2–2.7 ms at 230k messages/s, docs/benchmarks.md).
 *
 * A hold only batches while the pile fits the pipe (64 KiB; a socketpair, the fallback, ~167 small messages
 * whatever their size). A producer that fills it within a hold was blocked, and holds cap it at about one
 * pipeful per hold (~55 MB/s). So when holds have run for {@link WINDOW_MS} and one ends with a full pipe,
 * the rate under holds is compared with the rate of a probe, {@link WINDOW_MS} without holds. Clearly faster
 * unheld: holds stay off for {@link OFF_MS} (doubling, up to {@link MAX_OFF_MS}, while probes keep saying so),
 * then are tried again. Not faster: holds were costing the producer nothing, and full pipes are accepted for
 * {@link TRUST_MS} before the next probe. Time is taken from `now` so that tests can drive it.
 */

/** A read of at least this many bytes means the producer is keeping up with the relay: no hold. */
export const HOLD_BELOW_BYTES = 16 * 1024;
/** The hold: the shortest Node timer. At most this much latency is added. */
export const HOLD_MS = 1;
/** A pile this large after a hold means a kernel pipe (64 KiB) was full, or nearly. */
export const FULL_PIPE_BYTES = 60 * 1024;
/** A Linux socketpair blocks its writer after ~167 small messages; this many piled up means it was close. */
export const FULL_SOCKET_LINES = 64;
/** The shortest window over which a rate (held or unheld) is measured. */
export const WINDOW_MS = 20;
/** Unheld rate over held rate above which holds are switched off. */
export const FASTER_UNHELD = 1.2;
/** How long holds stay off after a probe found the producer faster without them (doubles each time). */
export const OFF_MS = 100;
/** The longest holds stay off before they are tried again. */
export const MAX_OFF_MS = 1600;
/** How long full pipes are accepted after a probe found holds harmless. */
export const TRUST_MS = 250;

function rate(from: Mark, to: Mark): number {
  return (to.bytes - from.bytes) / Math.max(to.at - from.at, 1e-3);
}

export interface ReadHoldOptions {
  /** The producer writes into a kernel pipe (true) or a socketpair (false). */
  pipe: boolean;
  /** Milliseconds, monotonic. */
  now?: () => number;
}

/** Where a rate window began. */
interface Mark {
  at: number;
  bytes: number;
}

type Mode =
  | { kind: 'hold'; since: Mark | undefined }
  | { kind: 'probe'; since: Mark; heldRate: number }
  | { kind: 'off'; until: number };

export class ReadHold {
  private readonly now: () => number;
  private mode: Mode = { kind: 'hold', since: undefined };
  private previousSmall = false;
  private holding = false;
  /** Totals when the last hold began (undefined once judged). */
  private lastHold: { bytes: number; lines: number } | undefined;
  private trustUntil = 0;
  private offMs = OFF_MS;
  /** Counters for tests and the benchmark. */
  readonly stats = { holds: 0, probes: 0, offs: 0 };

  constructor(private readonly opts: ReadHoldOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * Called after each read with its size and the totals so far (bytes read, lines seen, this read
   * included); true means: pause the producer now and call {@link release} after {@link HOLD_MS}.
   */
  afterRead(chunkBytes: number, totalBytes: number, totalLines: number): boolean {
    const small = chunkBytes < HOLD_BELOW_BYTES;
    const twoSmall = small && this.previousSmall;
    this.previousSmall = small;
    if (!twoSmall || this.holding) return false;
    const now = this.now();
    const mark: Mark = { at: now, bytes: totalBytes };
    let mode = this.mode;
    if (mode.kind === 'off') {
      if (now < mode.until) return false;
      mode = this.mode = { kind: 'hold', since: mark };
    }
    if (mode.kind === 'probe') {
      if (now - mode.since.at < WINDOW_MS) return false;
      if (rate(mode.since, mark) > FASTER_UNHELD * mode.heldRate) {
        this.mode = { kind: 'off', until: now + this.offMs };
        this.offMs = Math.min(this.offMs * 2, MAX_OFF_MS);
        this.stats.offs++;
        return false;
      }
      this.trustUntil = now + TRUST_MS;
      this.offMs = OFF_MS;
      mode = this.mode = { kind: 'hold', since: mark };
    }
    mode.since ??= mark;
    const last = this.lastHold;
    this.lastHold = undefined;
    if (last !== undefined && now >= this.trustUntil && now - mode.since.at >= WINDOW_MS) {
      const full = this.opts.pipe
        ? totalBytes - last.bytes >= FULL_PIPE_BYTES
        : totalLines - last.lines >= FULL_SOCKET_LINES;
      if (full) {
        this.mode = { kind: 'probe', since: mark, heldRate: rate(mode.since, mark) };
        this.stats.probes++;
        return false;
      }
    }
    this.holding = true;
    this.lastHold = { bytes: totalBytes, lines: totalLines };
    this.stats.holds++;
    return true;
  }

  /** The hold ended (its timer fired). */
  release(): void {
    this.holding = false;
  }

  /** The hold was cut short (end of input, consumer gone): nothing to judge. */
  cancel(): void {
    this.holding = false;
    this.lastHold = undefined;
  }
}
