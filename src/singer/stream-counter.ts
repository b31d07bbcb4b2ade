/**
 * Counts what a tap extracted: RECORD messages and their bytes per stream, from the raw lines of the tap's
 * stdout. RECORD lines are classified from their leading bytes (messages.ts) without decoding; only lines
 * that classification cannot settle are JSON-parsed, and lines that are not JSON are counted as malformed
 * (the relay forwards them untouched; the target decides what to do with them).
 */
import { classifyLine, describeParsed, isClassified, MessageType, newLineClass } from './messages';

export interface StreamCounts {
  records: number;
  /** Bytes of this stream's RECORD lines, newline included. */
  bytes: number;
}

interface PrefixEntry {
  bytes: Buffer;
  /** `bytes` as little-endian 32-bit words, the last partial word left out. */
  words: Int32Array;
  counts: StreamCounts;
}

const MAX_CACHED_VIEW_BYTES = 1 << 20;

export class TapOutputCounter {
  /** Streams by name, in order of first appearance (SCHEMA or RECORD). */
  readonly streams = new Map<string, StreamCounts>();
  records = 0;
  lines = 0;
  malformedLines = 0;
  private readonly byRaw = new Map<string, StreamCounts>();
  private readonly cls = newLineClass();
  private lastRaw: Buffer = Buffer.alloc(0);
  private lastCounts: StreamCounts | undefined;
  // Leading bytes of the first RECORD lines of each writer style and stream (through the type and stream values): a line
  // that starts with the same bytes is a RECORD of the same stream, found with one short compare.
  private readonly prefixes: PrefixEntry[] = [];
  // A view of the buffer lines are being matched in, for 4-byte compares (one per chunk, not per line).
  private view: DataView | undefined;
  private viewOf: Buffer | undefined;

  /** For LineScanner.wantWholeLine: the head of a long line is not enough when the fast path can't classify it. */
  readonly wantWholeLine = (head: Buffer): boolean => {
    classifyLine(head, 0, head.length, this.cls);
    return !isClassified(this.cls);
  };

  /** For LineScanner.onLine. */
  readonly onLine = (buf: Buffer, start: number, end: number, lineBytes: number, terminated: boolean): void => {
    if (lineBytes === 0) return;
    this.lines++;
    const size = lineBytes + (terminated ? 1 : 0);
    const known = this.matchPrefix(buf, start, end);
    if (known !== undefined) {
      known.records++;
      known.bytes += size;
      this.records++;
      return;
    }
    const cls = this.cls;
    classifyLine(buf, start, end, cls);
    if (isClassified(cls)) {
      if (cls.type === MessageType.Record) {
        const counts = this.countsForBytes(buf, cls.streamStart, cls.streamEnd, cls.streamEscaped);
        this.rememberPrefix(buf, start, cls.prefixEnd, counts);
        counts.records++;
        counts.bytes += size;
        this.records++;
      } else if (cls.type === MessageType.Schema) {
        this.countsForBytes(buf, cls.streamStart, cls.streamEnd, cls.streamEscaped);
      }
      return;
    }
    this.classifyByParsing(buf, start, end, lineBytes, size);
  };

  private matchPrefix(buf: Buffer, start: number, end: number): StreamCounts | undefined {
    const prefixes = this.prefixes;
    if (prefixes.length === 0) return undefined;
    let view = this.view;
    if (this.viewOf !== buf || view === undefined) {
      view = new DataView(buf.buffer, buf.byteOffset, buf.length);
      // Keep a view of a read chunk for its next lines, not of a long line glued from many chunks.
      this.view = buf.length <= MAX_CACHED_VIEW_BYTES ? view : undefined;
      this.viewOf = buf.length <= MAX_CACHED_VIEW_BYTES ? buf : undefined;
    }
    for (let p = 0; p < prefixes.length; p++) {
      const entry = prefixes[p]!;
      const bytes = entry.bytes;
      let k = bytes.length;
      if (end - start <= k) continue;
      // From the end: the stream name, where prefixes differ, comes last. The bytes past the last whole word one
      // by one, then the rest 4 bytes at a time (about 4x fewer compares than byte by byte on every RECORD line).
      const words = entry.words;
      const wordBytes = words.length * 4;
      while (k > wordBytes && buf[start + k - 1] === bytes[k - 1]) k--;
      if (k > wordBytes) continue;
      let w = words.length - 1;
      while (w >= 0 && view.getInt32(start + 4 * w, true) === words[w]) w--;
      if (w < 0) return entry.counts;
    }
    return undefined;
  }

  private rememberPrefix(buf: Buffer, start: number, prefixEnd: number, counts: StreamCounts): void {
    // Cap both the number and the length of prefixes so the fast path stays fast and memory stays small.
    if (prefixEnd < 0 || prefixEnd - start > 512) return;
    const bytes = Buffer.from(buf.subarray(start, prefixEnd));
    const words = new Int32Array(Math.floor(bytes.length / 4));
    for (let w = 0; w < words.length; w++) words[w] = bytes.readInt32LE(4 * w);
    this.prefixes.unshift({ bytes, words, counts });
    if (this.prefixes.length > 16) this.prefixes.pop();
  }

  private classifyByParsing(buf: Buffer, start: number, end: number, lineBytes: number, size: number): void {
    // Only a head was captured: the fast path classified the head, so this cannot happen; count, don't guess.
    if (end - start < lineBytes) {
      this.malformedLines++;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      if (buf.subarray(start, end).toString('utf8').trim() !== '') this.malformedLines++;
      return;
    }
    const { type, stream } = describeParsed(parsed);
    if (type === undefined) {
      this.malformedLines++;
    } else if (stream !== undefined && (type === MessageType.Record || type === MessageType.Schema)) {
      const counts = this.countsForName(stream);
      if (type === MessageType.Record) {
        counts.records++;
        counts.bytes += size;
        this.records++;
      }
    }
  }

  private countsForBytes(buf: Buffer, start: number, end: number, escaped: boolean): StreamCounts {
    // Consecutive records usually share a stream: compare bytes instead of decoding a name per line.
    if (this.lastCounts !== undefined && this.lastRaw.compare(buf, start, end) === 0) return this.lastCounts;
    const raw = buf.toString('utf8', start, end);
    let counts = this.byRaw.get(raw);
    if (counts === undefined) {
      const name = escaped ? decodeJsonString(raw) : raw;
      counts = this.countsForName(name);
      this.byRaw.set(raw, counts);
    }
    this.lastRaw = Buffer.from(buf.subarray(start, end));
    this.lastCounts = counts;
    return counts;
  }

  private countsForName(name: string): StreamCounts {
    let counts = this.streams.get(name);
    if (counts === undefined) {
      counts = { records: 0, bytes: 0 };
      this.streams.set(name, counts);
    }
    return counts;
  }
}

function decodeJsonString(rawContents: string): string {
  try {
    const v: unknown = JSON.parse(`"${rawContents}"`);
    return typeof v === 'string' ? v : rawContents;
  } catch {
    return rawContents;
  }
}
