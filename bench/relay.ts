/**
 * Relay throughput benchmark: the same synthetic Singer stream (SCHEMA, RECORDs, a STATE every few thousand
 * records) goes (1) through a raw shell pipe `gen | sink`, (2) through `gen | cat | sink` (the cheapest third process
 * that copies every byte: what any relay costs at least) and (3) through `runRelay` (gen as the tap, sink
 * as the target), in one run, and the MB/s of both, their ratio and the relay process's RSS over time are
 * printed as JSON. Three generators: `prebuilt` writes pre-built 1 MiB blocks so that the relay's own cost shows,
 * `serializing` JSON-encodes every record in Node, `python` does `json.dumps` per record in Python like an SDK tap
 * (the rate a user's pipeline actually has). The sink counts bytes and prints one bare state line at the end, as
 * a target does.
 *
 * Run: `npx tsx bench/relay.ts [megabytes] [rounds] [generators]` (default 400 MB, 2 rounds, all generators, e.g.
 * `prebuilt,python`); the generators run in turn.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRelay } from '../src/singer/relay';

export interface BenchOptions {
  /**
   * `prebuilt`: the relay's own cost shows; `serializing`: a Node generator that JSON-encodes each record;
   * `python`: a Python generator doing `json.dumps` per record, as SDK taps do.
   */
  generator: Generator;
  /** Size of the synthetic stream; at least 300 MB for a meaningful run. */
  megabytes: number;
  /** Raw and relay runs alternate this many times; the best of each is compared. */
  rounds: number;
  /** RSS sampling period of the relay process. */
  sampleMs: number;
}

export const GENERATORS = ['prebuilt', 'serializing', 'python'] as const;
export type Generator = (typeof GENERATORS)[number];

export interface RunMeasure {
  seconds: number;
  mbPerSec: number;
  /** CPU (user + system) the relay process itself used; only for relay runs. */
  relayCpuSeconds?: number;
}

export interface RssSample {
  tMs: number;
  rssMb: number;
  relayedMb: number;
}

export interface BenchResult {
  generator: BenchOptions['generator'];
  bytes: number;
  records: number;
  statesInStream: number;
  raw: RunMeasure[];
  /** `gen | cat | sink`: a C program that only copies, the floor of any relay process. */
  cat: RunMeasure[];
  relay: RunMeasure[];
  /** The same relay with Node's socketpairs as the plugins' stdio (what floe used before kernel pipes). */
  relaySocketpairs: RunMeasure[];
  bestRawMbPerSec: number;
  bestRelayMbPerSec: number;
  medianRawMbPerSec: number;
  medianRelayMbPerSec: number;
  /** Best `gen | cat | sink` / best raw: what merely copying through a third process costs on this machine. */
  catRatio: number;
  /** bestRelayMbPerSec / bestRawMbPerSec; the goal is >= 0.9. */
  ratio: number;
  medianRatio: number;
  /** Median relay MB/s with kernel pipes / with socketpairs, side by side in the same rounds. */
  pipesVsSocketpairsMedian: number;
  /** Median relay CPU ms per MB with socketpairs (compare with relayCpuMsPerMb). */
  socketpairsCpuMsPerMb: number;
  /** CPU the relay spends per MB relayed (median): robust to other load on the machine, unlike MB/s. */
  relayCpuMsPerMb: number;
  relayRecordsCounted: number;
  sinkState: unknown;
  rss: { startMb: number; maxMb: number; endMb: number; samples: RssSample[] };
  maxBufferedBytes: number;
  node: string;
  cpus: number;
}

const MB = 1_000_000;

// argv: total bytes, mode. `prebuilt` writes one pre-built 1 MiB block over and over (the generator costs
// almost nothing, so the relay's own cost shows); `serializing` JSON-encodes every record like a tap does.
const GEN_JS = `
const fs = require('node:fs');
const [total, mode] = [Number(process.argv[2]), process.argv[3]];
const rec = (n) => ({ id: n, name: 'user ' + n, email: 'user' + n + '@example.com', updated_at: '2026-01-01T00:00:00Z', balance: 1234.56, active: true });
const line = (n) => '{"type": "RECORD", "stream": "' + (n % 3 === 0 ? 'orders' : 'users') + '", "record": ' + JSON.stringify(rec(n)) + ', "time_extracted": "2026-01-02T03:00:00Z"}\\n';
const state = (n) => JSON.stringify({ type: 'STATE', value: { bookmarks: { users: { replication_key_value: String(n) } } } }) + '\\n';
const schema = (s) => '{"type": "SCHEMA", "stream": "' + s + '", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}, "key_properties": ["id"]}\\n';
fs.writeSync(1, schema('users') + schema('orders'));
let written = 0, records = 0, states = 0;
if (mode === 'prebuilt') {
  const lines = [];
  let size = 0, n = 0;
  while (size < (1 << 20)) { const l = line(++n); lines.push(l); size += l.length; }
  lines.push(state(n));
  const block = Buffer.from(lines.join(''));
  while (written < total) { written += fs.writeSync(1, block); records += n; states++; }
} else {
  let n = 0, batch = '';
  while (written < total) {
    batch += line(++n);
    if (n % 5000 === 0) { batch += state(n); states++; }
    if (batch.length >= 65536) { written += fs.writeSync(1, batch); batch = ''; }
  }
  written += fs.writeSync(1, batch + state(n));
  records = n; states++;
}
fs.writeSync(2, JSON.stringify({ records, states }) + '\\n');
`;

// argv: total bytes. One json.dumps, one write and one flush per message, as singer-sdk's SimpleSingerWriter does
// (singer_sdk/singerlib/encoding/simple.py, 0.53.7): one write syscall per message.
const GEN_PY = `
import json, sys
total = int(sys.argv[1])
out = sys.stdout
def schema(s):
    return json.dumps({"type": "SCHEMA", "stream": s, "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}, "key_properties": ["id"]}) + "\\n"
written = out.write(schema("users") + schema("orders"))
out.flush()
n = 0
states = 0
while written < total:
    n += 1
    rec = {"id": n, "name": "user %d" % n, "email": "user%d@example.com" % n, "updated_at": "2026-01-01T00:00:00Z", "balance": 1234.56, "active": True}
    written += out.write(json.dumps({"type": "RECORD", "stream": "orders" if n % 3 == 0 else "users", "record": rec, "time_extracted": "2026-01-02T03:00:00Z"}) + "\\n")
    out.flush()
    if n % 5000 == 0:
        written += out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"users": {"replication_key_value": str(n)}}}}) + "\\n")
        out.flush()
        states += 1
out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"users": {"replication_key_value": str(n)}}}}) + "\\n")
out.flush()
sys.stderr.write(json.dumps({"records": n, "states": states + 1}) + "\\n")
`;
import { median, round1 } from './stats';

// Reads with blocking 1 MiB reads and prints one bare state value at the end, as a target would.
const SINK_JS = `
const fs = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
let total = 0, r;
while ((r = fs.readSync(0, buf, 0, buf.length, null)) > 0) total += r;
process.stdout.write(JSON.stringify({ bookmarks: { bench: { bytes: total } } }) + '\\n');
`;

const PYTHON = process.env.FLOE_BENCH_PYTHON ?? 'python3';

/** The generator's command line: the executable, then its arguments. */
function generatorCommand(dir: string, generator: Generator, bytes: number): [string, string[]] {
  return generator === 'python'
    ? [PYTHON, [path.join(dir, 'gen.py'), String(bytes)]]
    : [process.execPath, [path.join(dir, 'gen.js'), String(bytes), generator]];
}

async function timeRawPipe(gen: [string, string[]], sink: string, viaCat: boolean): Promise<RunMeasure> {
  const bytes = Number(gen[1][1]);
  const started = process.hrtime.bigint();
  const cmd = `${[gen[0], ...gen[1]].map((a) => `"${a}"`).join(' ')} |${viaCat ? ' cat |' : ''} "${process.execPath}" "${sink}" > /dev/null`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`raw pipe exited with code ${code}`))));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, mbPerSec: bytes / MB / seconds };
}

/** Runs the benchmark; throws when a run fails. */
export async function benchRelay(opts: Partial<BenchOptions> = {}): Promise<BenchResult> {
  const o: BenchOptions = { generator: 'prebuilt', megabytes: 400, rounds: 2, sampleMs: 250, ...opts };
  const bytes = Math.round(o.megabytes * MB);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-bench-relay-'));
  try {
    const sink = path.join(dir, 'sink.js');
    await fs.writeFile(path.join(dir, 'gen.js'), GEN_JS);
    await fs.writeFile(path.join(dir, 'gen.py'), GEN_PY);
    await fs.writeFile(sink, SINK_JS);
    const gen = generatorCommand(dir, o.generator, bytes);
    const raw: RunMeasure[] = [];
    const cat: RunMeasure[] = [];
    const relay: RunMeasure[] = [];
    const relaySocketpairs: RunMeasure[] = [];
    const samples: RssSample[] = [];
    let last: Awaited<ReturnType<typeof startRelay>['result']> | undefined;
    let sinkState: unknown;
    let genInfo = { records: 0, states: 0 };
    const rssStart = process.memoryUsage().rss;
    const timeRelay = async (socketpairs: boolean): Promise<RunMeasure> => {
      const handle = startRelay({
        plugins: [
          { name: 'bench-gen', role: 'tap', command: gen[0], args: gen[1] },
          { name: 'bench-sink', role: 'target', command: process.execPath, args: [sink] },
        ],
        socketpairs,
        onState: (v) => void (sinkState = v),
        onLog: (e) => {
          if (e.stream === 'stderr' && e.line.startsWith('{')) genInfo = JSON.parse(e.line) as typeof genInfo;
        },
      });
      const started = Date.now();
      const cpu0 = process.cpuUsage();
      // RSS is sampled on the kernel-pipe runs only, the relay floe uses.
      const timer = socketpairs
        ? undefined
        : setInterval(() => {
            samples.push({
              tMs: Date.now() - started,
              rssMb: process.memoryUsage().rss / MB,
              relayedMb: handle.getProgress().totals.bytes / MB,
            });
          }, o.sampleMs);
      last = await handle.result;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(timer);
      if (last.status !== 'succeeded') throw new Error(`bench relay run failed: ${last.message ?? last.status}`);
      if (last.totals.records !== genInfo.records) {
        throw new Error(`the relay counted ${last.totals.records} records but the generator wrote ${genInfo.records}`);
      }
      return {
        seconds: last.durationMs / 1000,
        mbPerSec: last.totals.bytes / MB / (last.durationMs / 1000),
        relayCpuSeconds: (cpu.user + cpu.system) / 1e6,
      };
    };
    for (let round = 0; round < o.rounds; round++) {
      raw.push(await timeRawPipe(gen, sink, false));
      cat.push(await timeRawPipe(gen, sink, true));
      relay.push(await timeRelay(false));
      relaySocketpairs.push(await timeRelay(true));
    }
    const bestRaw = Math.max(...raw.map((r) => r.mbPerSec));
    const bestRelay = Math.max(...relay.map((r) => r.mbPerSec));
    const rss = samples.map((s) => s.rssMb);
    const medRaw = median(raw.map((r) => r.mbPerSec));
    const medRelay = median(relay.map((r) => r.mbPerSec));
    return {
      bytes: last!.totals.bytes,
      generator: o.generator,
      records: genInfo.records,
      statesInStream: genInfo.states,
      raw,
      cat,
      relay,
      relaySocketpairs,
      bestRawMbPerSec: round1(bestRaw),
      bestRelayMbPerSec: round1(bestRelay),
      medianRawMbPerSec: round1(medRaw),
      medianRelayMbPerSec: round1(medRelay),
      catRatio: Math.round((Math.max(...cat.map((r) => r.mbPerSec)) / bestRaw) * 1000) / 1000,
      ratio: Math.round((bestRelay / bestRaw) * 1000) / 1000,
      medianRatio: Math.round((medRelay / medRaw) * 1000) / 1000,
      relayCpuMsPerMb: cpuMsPerMb(relay, bytes),
      pipesVsSocketpairsMedian: Math.round((medRelay / median(relaySocketpairs.map((r) => r.mbPerSec))) * 1000) / 1000,
      socketpairsCpuMsPerMb: cpuMsPerMb(relaySocketpairs, bytes),
      relayRecordsCounted: last!.totals.records,
      sinkState,
      rss: {
        startMb: round1(rssStart / MB),
        maxMb: round1(Math.max(...rss)),
        endMb: round1(process.memoryUsage().rss / MB),
        samples: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 40)) === 0),
      },
      maxBufferedBytes: last!.maxBufferedBytes,
      node: process.version,
      cpus: os.cpus().length,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function cpuMsPerMb(runs: RunMeasure[], bytes: number): number {
  return Math.round(median(runs.map((r) => ((r.relayCpuSeconds ?? 0) * 1000) / (bytes / MB))) * 1000) / 1000;
}

if (require.main === module) {
  const [mb, rounds] = process.argv.slice(2, 4).map(Number);
  const wanted = (process.argv[4] ?? GENERATORS.join(',')).split(',') as Generator[];
  const base = { ...(mb ? { megabytes: mb } : {}), ...(rounds ? { rounds } : {}) };
  (async () => {
    const results: Partial<Record<Generator, BenchResult>> = {};
    for (const generator of wanted) {
      if (!GENERATORS.includes(generator))
        throw new Error(`unknown generator '${generator}'; use ${GENERATORS.join(', ')}`);
      results[generator] = await benchRelay({ ...base, generator });
    }
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  })().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
