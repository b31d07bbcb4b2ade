/**
 * Newline scanner over raw stdout chunks. The relay forwards chunks untouched; this only finds line
 * boundaries, enforces the maximum line length (Meltano's `elt.buffer_size // 2`, meltano.md §4.2) and hands
 * each line to a handler without copying when the line lies inside one chunk. A line split across chunks
 * is copied, but only its first `headBytes` unless the handler asks for the whole line.
 */

const NEWLINE = 0x0a;

export interface LineScannerOptions {
  /** A line longer than this (newline excluded) triggers `onOverflow` once and stops the scanner. */
  maxLineBytes: number;
  /** Bytes of a chunk-spanning line to keep for the handler; `Infinity` keeps whole lines. */
  headBytes: number;
  /**
   * Asked once the head of a chunk-spanning line is captured; returning true keeps capturing up to the
   * whole line (still bounded by `maxLineBytes`). Defaults to never.
   */
  wantWholeLine?: (head: Buffer) => boolean;
  /**
   * One line: `buf[start, end)` is the line or its captured head, `lineBytes` its full length without the
   * newline, `terminated` false only for a last line without a trailing newline.
   */
  onLine: (buf: Buffer, start: number, end: number, lineBytes: number, terminated: boolean) => void;
  /** The current line grew past `maxLineBytes`; `seenBytes` is how much of it was read so far. */
  onOverflow: (seenBytes: number) => void;
}

export class LineScanner {
  private parts: Buffer[] = [];
  private captured = 0;
  private pending = 0;
  private whole = false;
  private overflowed = false;

  constructor(private readonly opts: LineScannerOptions) {}

  /** Bytes of partial lines held by the scanner (for the relay's bounded-memory accounting). */
  get bufferedBytes(): number {
    return this.captured;
  }

  get hasOverflowed(): boolean {
    return this.overflowed;
  }

  /** Scans one chunk; returns false once a line has overflowed (further input is ignored). */
  push(chunk: Buffer): boolean {
    if (this.overflowed) return false;
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) {
        this.addPartial(chunk, pos, len);
        return !this.overflowed;
      }
      if (this.pending === 0) {
        if (nl - pos > this.opts.maxLineBytes) return this.overflow(nl - pos);
        this.opts.onLine(chunk, pos, nl, nl - pos, true);
      } else {
        this.addPartial(chunk, pos, nl);
        if (this.overflowed) return false;
        this.emitPending(true);
      }
      pos = nl + 1;
    }
    return true;
  }

  /** Flushes a last line that had no trailing newline. */
  end(): void {
    if (!this.overflowed && this.pending > 0) this.emitPending(false);
  }

  private addPartial(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    this.pending += n;
    if (this.pending > this.opts.maxLineBytes) {
      this.overflow(this.pending);
      return;
    }
    if (n === 0) return;
    // Copies: the chunk belongs to the stream and must not be retained beyond this call.
    if (this.whole) {
      this.parts.push(Buffer.from(chunk.subarray(start, end)));
      this.captured += n;
      return;
    }
    const room = this.opts.headBytes - this.captured;
    if (room <= 0) return;
    const take = Math.min(n, room);
    this.parts.push(Buffer.from(chunk.subarray(start, start + take)));
    this.captured += take;
    if (this.captured >= this.opts.headBytes && this.opts.wantWholeLine?.(this.concatParts())) {
      this.whole = true;
      if (take < n) {
        this.parts.push(Buffer.from(chunk.subarray(start + take, end)));
        this.captured += n - take;
      }
    }
  }

  private concatParts(): Buffer {
    if (this.parts.length !== 1) this.parts = [Buffer.concat(this.parts, this.captured)];
    return this.parts[0]!;
  }

  private emitPending(terminated: boolean): void {
    const buf = this.captured > 0 ? this.concatParts() : Buffer.alloc(0);
    const lineBytes = this.pending;
    this.parts = [];
    this.captured = 0;
    this.pending = 0;
    this.whole = false;
    this.opts.onLine(buf, 0, buf.length, lineBytes, terminated);
  }

  private overflow(seen: number): false {
    this.overflowed = true;
    this.parts = [];
    this.captured = 0;
    this.opts.onOverflow(seen);
    return false;
  }
}
