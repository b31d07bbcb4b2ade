/**
 * Singer message types and a byte-level classifier for one message line.
 *
 * Terminology: a *message* is one JSON object on one line of a plugin's stdout (singer.md §1.1); its `type`
 * is one of RECORD, SCHEMA, STATE, ACTIVATE_VERSION, BATCH (singer.md §1.2). A target's stdout carries bare
 * state values instead (singer.md §4), which this module does not classify.
 *
 * The classifier exists so the relay can count RECORDs per stream without decoding or JSON-parsing them:
 * it reads only the leading string-valued keys of the object (`{"type": "RECORD", "stream": "x", ...` as
 * Python's json.dumps writes it, `{"type":"RECORD","stream":"x",...` as compact/msgspec writers do, and
 * either key order), and reports "unknown" for anything else so the caller can fall back to JSON.parse.
 */

export const MessageType = {
  Record: 'RECORD',
  Schema: 'SCHEMA',
  State: 'STATE',
  ActivateVersion: 'ACTIVATE_VERSION',
  Batch: 'BATCH',
} as const;

export type MessageTypeName = (typeof MessageType)[keyof typeof MessageType];

/** What the classifier learnt about a line; reused between calls to avoid an allocation per line. */
export interface LineClass {
  /** The message type (upper-cased), or `undefined` when the leading keys did not include `type`. */
  type: MessageTypeName | 'OTHER' | undefined;
  /** Byte range of the `stream` string's contents (without quotes) inside the classified buffer; -1 if absent. */
  streamStart: number;
  streamEnd: number;
  /** True when the stream string contains a backslash escape and must be decoded with JSON.parse. */
  streamEscaped: boolean;
  /** Index just past the last string the classifier read: lines sharing these bytes classify the same. */
  prefixEnd: number;
}

export function newLineClass(): LineClass {
  return { type: undefined, streamStart: -1, streamEnd: -1, streamEscaped: false, prefixEnd: -1 };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
// Enough pairs to get past an optional leading key (e.g. "time_extracted" written first by a custom writer).
const MAX_LEADING_PAIRS = 4;

function skipWs(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return i;
    i++;
  }
  return i;
}

/** Index just past the closing quote of the string whose opening quote is at `i - 1`; -1 if unterminated. */
function scanString(buf: Buffer, i: number, end: number, out: { escaped: boolean }): number {
  out.escaped = false;
  while (i < end) {
    const c = buf[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      out.escaped = true;
      i += 2;
    } else {
      i++;
    }
  }
  return -1;
}

function bytesEqualAscii(buf: Buffer, start: number, end: number, ascii: string): boolean {
  if (end - start !== ascii.length) return false;
  for (let k = 0; k < ascii.length; k++) if (buf[start + k] !== ascii.charCodeAt(k)) return false;
  return true;
}

// Upper-case ASCII compare: the spec calls types case-insensitive (singer.md §1.1).
function typeFromBytes(buf: Buffer, start: number, end: number): MessageTypeName | 'OTHER' {
  const len = end - start;
  outer: for (const name of TYPE_NAMES) {
    if (name.length !== len) continue;
    for (let k = 0; k < len; k++) {
      let c = buf[start + k]!;
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c !== name.charCodeAt(k)) continue outer;
    }
    return name;
  }
  return 'OTHER';
}

const TYPE_NAMES: readonly MessageTypeName[] = Object.values(MessageType);

/**
 * Classifies the message in `buf[start, end)` from its leading string-valued keys. Fills `out` and never
 * throws; `out.type === undefined` (or a RECORD/SCHEMA without a stream range) means "parse it to know".
 */
export function classifyLine(buf: Buffer, start: number, end: number, out: LineClass): void {
  out.type = undefined;
  out.streamStart = -1;
  out.streamEnd = -1;
  out.streamEscaped = false;
  out.prefixEnd = -1;
  let i = skipWs(buf, start, end);
  if (buf[i] !== OPEN_BRACE) return;
  const str = { escaped: false };
  for (let pair = 0; pair < MAX_LEADING_PAIRS; pair++) {
    i = skipWs(buf, i + 1, end);
    if (buf[i] !== QUOTE) return;
    const keyStart = i + 1;
    const keyStop = scanString(buf, keyStart, end, str);
    if (keyStop < 0 || str.escaped) return;
    const keyEnd = keyStop - 1;
    i = skipWs(buf, keyStop, end);
    if (buf[i] !== COLON) return;
    i = skipWs(buf, i + 1, end);
    // A non-string value (the record object, a state value) ends the cheap part of the scan.
    if (buf[i] !== QUOTE) return;
    const valStart = i + 1;
    const valStop = scanString(buf, valStart, end, str);
    if (valStop < 0) return;
    if (bytesEqualAscii(buf, keyStart, keyEnd, 'type')) {
      out.type = str.escaped ? 'OTHER' : typeFromBytes(buf, valStart, valStop - 1);
    } else if (bytesEqualAscii(buf, keyStart, keyEnd, 'stream')) {
      out.streamStart = valStart;
      out.streamEnd = valStop - 1;
      out.streamEscaped = str.escaped;
    }
    out.prefixEnd = valStop;
    if (out.type !== undefined && out.streamStart >= 0) return;
    i = skipWs(buf, valStop, end);
    if (buf[i] !== COMMA) return;
  }
}

/** True when the classification is complete enough to count the line without parsing it. */
export function isClassified(c: LineClass): boolean {
  if (c.type === undefined) return false;
  if (c.type === MessageType.Record || c.type === MessageType.Schema) return c.streamStart >= 0;
  return true;
}

/** A parsed message's type and stream, for lines the byte classifier could not settle. */
export function describeParsed(value: unknown): { type: string | undefined; stream: string | undefined } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { type: undefined, stream: undefined };
  const v = value as Record<string, unknown>;
  return {
    type: typeof v.type === 'string' ? v.type.toUpperCase() : undefined,
    stream: typeof v.stream === 'string' ? v.stream : undefined,
  };
}
