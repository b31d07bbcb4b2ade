import assert from 'node:assert/strict';
import { LineScanner } from '../../../src/singer/line-scanner';
import { classifyLine, isClassified, newLineClass } from '../../../src/singer/messages';
import { TapOutputCounter } from '../../../src/singer/stream-counter';

function classify(line: string): { type: string | undefined; stream: string | undefined; classified: boolean } {
  const buf = Buffer.from(line);
  const c = newLineClass();
  classifyLine(buf, 0, buf.length, c);
  return {
    type: c.type,
    stream: c.streamStart >= 0 ? buf.toString('utf8', c.streamStart, c.streamEnd) : undefined,
    classified: isClassified(c),
  };
}

describe('singer/messages classifyLine', () => {
  const cases: Array<[string, string, string | undefined, string | undefined, boolean]> = [
    ['python json.dumps', '{"type": "RECORD", "stream": "users", "record": {"id": 1}}', 'RECORD', 'users', true],
    ['compact', '{"type":"RECORD","stream":"users","record":{"id":1}}', 'RECORD', 'users', true],
    ['stream first', '{"stream": "a-b", "type": "RECORD", "record": {}}', 'RECORD', 'a-b', true],
    ['lower-case type', '{"type":"record","stream":"u","record":{}}', 'RECORD', 'u', true],
    ['escaped stream', '{"type":"RECORD","stream":"caf\\u00e9","record":{}}', 'RECORD', 'caf\\u00e9', true],
    ['schema', '{"type": "SCHEMA", "stream": "u", "schema": {}, "key_properties": []}', 'SCHEMA', 'u', true],
    ['state', '{"type": "STATE", "value": {"bookmarks": {}}}', 'STATE', undefined, true],
    ['record before type', '{"record":{"id":1},"type":"RECORD","stream":"u"}', undefined, undefined, false],
    ['record with stream last', '{"type":"RECORD","record":{"id":1},"stream":"u"}', 'RECORD', undefined, false],
    ['not json', 'this is not json {', undefined, undefined, false],
    ['unknown type', '{"type":"HELLO"}', 'OTHER', undefined, true],
  ];
  for (const [label, line, type, stream, classified] of cases) {
    it(`classifies a ${label} line`, () => {
      assert.deepEqual(classify(line), { type, stream, classified });
    });
  }
});

describe('singer/line-scanner', () => {
  function scan(chunks: string[], maxLineBytes: number, headBytes: number) {
    const lines: Array<[string, number, boolean]> = [];
    const overflows: number[] = [];
    const s = new LineScanner({
      maxLineBytes,
      headBytes,
      onLine: (buf, start, end, n, terminated) => lines.push([buf.toString('utf8', start, end), n, terminated]),
      onOverflow: (seen) => overflows.push(seen),
    });
    for (const c of chunks) s.push(Buffer.from(c));
    s.end();
    return { lines, overflows };
  }

  it('splits lines across chunk boundaries and flushes an unterminated last line', () => {
    assert.deepEqual(scan(['ab\ncd', 'ef\n', 'gh'], 100, Infinity).lines, [
      ['ab', 2, true],
      ['cdef', 4, true],
      ['gh', 2, false],
    ]);
  });

  it('keeps only the head of a chunk-spanning line', () => {
    assert.deepEqual(scan(['abc', 'def', 'g\n'], 100, 4).lines, [['abcd', 7, true]]);
  });

  it('accepts a line of exactly maxLineBytes and rejects one byte more', () => {
    assert.deepEqual(scan(['12345\n', '123', '45\n'], 5, 0), {
      lines: [
        ['12345', 5, true],
        ['', 5, true],
      ],
      overflows: [],
    });
    assert.deepEqual(scan(['123', '456\n', 'x\n'], 5, 0), { lines: [], overflows: [6] });
    assert.deepEqual(scan(['123456\n'], 5, 0), { lines: [], overflows: [6] });
  });
});

describe('singer/stream-counter', () => {
  it('counts records per stream in every writer style and parses only what it must', () => {
    const counter = new TapOutputCounter();
    const lines = [
      '{"type": "SCHEMA", "stream": "empty", "schema": {}, "key_properties": []}',
      '{"type": "RECORD", "stream": "a", "record": {}}',
      '{"type":"RECORD","stream":"a","record":{}}',
      '{"record":{},"type":"RECORD","stream":"b"}',
      '{"type":"RECORD","stream":"caf\\u00e9","record":{}}',
      '{"type":"RECORD","stream":"café","record":{}}',
      'garbage',
      '{"type": "STATE", "value": {}}',
    ];
    const s = new LineScanner({
      maxLineBytes: 1000,
      headBytes: 8,
      wantWholeLine: counter.wantWholeLine,
      onLine: counter.onLine,
      onOverflow: () => assert.fail('overflow'),
    });
    // One byte per chunk: every line spans chunks, so the head and whole-line paths are exercised.
    for (const b of Buffer.from(lines.join('\n') + '\n')) s.push(Buffer.from([b]));
    const bytes = (i: number) => Buffer.byteLength(lines[i]!) + 1;
    assert.deepEqual(Object.fromEntries(counter.streams), {
      empty: { records: 0, bytes: 0 },
      a: { records: 2, bytes: bytes(1) + bytes(2) },
      b: { records: 1, bytes: bytes(3) },
      café: { records: 2, bytes: bytes(4) + bytes(5) },
    });
    assert.deepEqual([counter.records, counter.lines, counter.malformedLines], [5, 8, 1]);
  });
});

describe('singer/stream-counter known prefixes', () => {
  it('tells apart lines that differ from a known RECORD prefix in any one byte, at any offset in a chunk', () => {
    const counter = new TapOutputCounter();
    const s = new LineScanner({
      maxLineBytes: 1000,
      headBytes: 4096,
      onLine: counter.onLine,
      onOverflow: () => assert.fail('overflow'),
    });
    const known = '{"type": "RECORD", "stream": "abc", "record": {"id": 1}}';
    // The known prefix is `{"type": "RECORD", "stream": "abc"`: 34 bytes, 8 whole words and a 2-byte tail.
    const lines = [known, known];
    const prefixLength = known.indexOf('"abc"') + 5;
    for (let i = 0; i < prefixLength; i++) {
      // Same length, one byte changed: a different type, key or stream name, or no longer JSON.
      const c = known[i] === 'x' ? 'y' : 'x';
      lines.push(known.slice(0, i) + c + known.slice(i + 1));
    }
    lines.push('{"type": "RECORD", "stream": "abcd", "record": {}}', '{"type": "RECORD", "stream": "ab"}');
    // A STATE line of 1 to 4 bytes more before each line moves it to every alignment of the 4-byte compares.
    const text = lines.map((l, i) => `{"type": "STATE", "value": "${'v'.repeat(i % 4)}"}\n${l}\n`).join('');
    s.push(Buffer.from(text));
    const perLine = lines.map((l) => {
      const c = new TapOutputCounter();
      c.onLine(Buffer.from(l), 0, Buffer.byteLength(l), Buffer.byteLength(l), true);
      return Object.fromEntries([...c.streams].map(([k, v]) => [k, v.records]));
    });
    const expected: Record<string, number> = {};
    for (const counts of perLine) for (const [k, v] of Object.entries(counts)) expected[k] = (expected[k] ?? 0) + v;
    assert.deepEqual(Object.fromEntries([...counter.streams].map(([k, v]) => [k, v.records])), expected);
    assert.equal(expected.abc, 2);
    assert.equal(counter.lines, 2 * lines.length);
  });
});
