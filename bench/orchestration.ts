/**
 * Orchestration benchmarks, each on its own Temporal dev server (the project's `temporal` binary, a temp SQLite
 * file, headless, stopped at the end; a developer's running server is never touched):
 *   trigger: `client.workflow.start` (as `floe trigger` does) to the tap's process start, next to `meltano run`
 *            start-up for the same block in the same project (and the `floe trigger` CLI process for reference);
 *   sync:    1,000 schedules from meltano.yml: first sync, no-op re-sync, re-sync with 10 changed;
 *   memory:  RSS of a `floe worker` process idle and with 20 pipelines running, plugin processes apart.
 *
 * Run: `npm run bench -- trigger sync memory` (compiled), or `npx tsx bench/run.ts trigger`.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { loadProject } from '../src/config/load';
import { syncSchedules } from '../src/schedules/sync';
import { startDevServer } from '../src/server/dev-server';
import type { DevServer } from '../src/server/dev-server';
import { ensureTemporalCli } from '../src/server/temporal-cli';
import { PIPELINE_WORKFLOW_TYPE } from '../src/shared/pipeline';
import type { PipelineInput, PipelineResult } from '../src/shared/pipeline';
import { FLOE_SEARCH_ATTRIBUTES, FloeEnvironment, FloeJob, FloeTrigger } from '../src/shared/search-attributes';
import { ensureMeltano, meltanoEnv } from './meltano';

/** The repository root (holds bench/fixtures), from bench/ under tsx or dist/bench/ when compiled. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'bench', 'fixtures'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`bench/fixtures was not found above ${__dirname}.`);
    dir = parent;
  }
  return dir;
}

let runtimeReady = false;
/** The SDK logs at INFO (every plugin line) by default; a bench wants warnings only, and stdout kept for JSON. */
function quietRuntime(): void {
  if (runtimeReady) return;
  runtimeReady = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed already by the embedding process: keep it.
  }
}

interface Bench {
  dir: string;
  server: DevServer;
  connection: Connection;
  client: Client;
}

/** A dev server on a fresh SQLite file in a temp dir, and a client; `close` stops both and removes the dir. */
async function withServer<T>(name: string, fn: (b: Bench) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `floe-bench-${name}-`));
  const cliPath = await ensureTemporalCli(repoRoot());
  const server = await startDevServer({
    cliPath,
    dbFile: path.join(dir, 'temporal.db'),
    headless: true,
    searchAttributes: FLOE_SEARCH_ATTRIBUTES,
    logFile: path.join(dir, 'temporal.log'),
  });
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: server.address });
    return await fn({ dir, server, connection, client: new Client({ connection, namespace: server.namespace }) });
  } finally {
    await connection?.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function copyFixture(name: string, into: string): string {
  const dest = path.join(into, name);
  fs.cpSync(path.join(repoRoot(), 'bench', 'fixtures', name), dest, { recursive: true });
  return dest;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the tap's `date +%s%N`. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface Distribution {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
}

function distribution(xs: number[]): Distribution {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
  const r = (n: number) => Math.round(n * 10) / 10;
  return { runs: s.length, p50Ms: r(rank(50)), p95Ms: r(rank(95)), minMs: r(s[0]!), maxMs: r(s[s.length - 1]!) };
}

/** The first stamp (epoch ms) the tap appended to stamps.log for a sync run (not `--discover`). */
async function waitForStamp(file: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .find((l) => l !== '' && !l.includes('--discover'))
      : undefined;
    if (line) return Number(BigInt(line.split(' ')[0] as string) / 1000n) / 1000;
    await sleep(5);
  }
  throw new Error(`The bench tap did not start within ${timeoutMs} ms (no line in ${file}).`);
}

/** Runs a command to completion; resolves with its stdout, rejects with its stderr tail on a non-zero exit. */
function runChild(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let tail = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (tail = (tail + c).slice(-3000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}: ${tail}`)),
    );
  });
}

export interface TriggerResult {
  /** `client.workflow.start` to tap process start, worker in-process and idle. */
  floe: Distribution & { wholeRunP50Ms: number; startRpcP50Ms: number };
  /** `node bin/floe.js trigger stamp` spawned to tap start: adds Node + CLI start-up and connecting. */
  floeTriggerCli: Distribution & { compiled: boolean };
  /** `meltano run tap-stamp target-null` spawned to tap start. */
  meltano: Distribution & { wholeRunP50Ms: number; version: string };
  /** meltano p50 / floe p50. */
  ratioP50: number;
  ratioP95: number;
}

/**
 * Trigger-to-tap-start for floe and for `meltano run`, alternating per round so load drifts hit both alike.
 * @throws when the server, a run or meltano fails.
 */
export async function benchTrigger(opts: { runs?: number; cliRuns?: number } = {}): Promise<TriggerResult> {
  const runs = opts.runs ?? 30;
  const cliRuns = opts.cliRuns ?? 10;
  const root = repoRoot();
  const meltano = await ensureMeltano(root);
  quietRuntime();
  return withServer('trigger', async ({ dir, server, client }) => {
    const project = copyFixture('stamp-project', dir);
    const stamps = path.join(project, 'stamps.log');
    const taskQueue = 'floe-bench-trigger';
    const input: PipelineInput = { trigger: 'manual', job: 'stamp', environment: 'dev' };
    let n = 0;
    const floeRun = async (): Promise<{ toTap: number; whole: number; startRpc: number }> => {
      fs.rmSync(stamps, { force: true });
      const t0 = nowMs();
      const handle = await client.workflow.start(PIPELINE_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `meltano_job_stamp-manual-bench-${++n}`,
        args: [input],
        memo: { trigger: 'manual', job: 'stamp' },
        typedSearchAttributes: [
          { key: FloeTrigger, value: 'manual' },
          { key: FloeJob, value: 'stamp' },
          { key: FloeEnvironment, value: 'dev' },
        ],
        staticSummary: "Manual run of job 'stamp'",
      });
      const startRpc = nowMs() - t0;
      const tap = await waitForStamp(stamps);
      const result = (await handle.result()) as PipelineResult;
      if (result.status !== 'succeeded') throw new Error(`bench run ${handle.workflowId} ended ${result.status}`);
      return { toTap: tap - t0, whole: nowMs() - t0, startRpc };
    };
    const meltanoRun = async (): Promise<{ toTap: number; whole: number }> => {
      fs.rmSync(stamps, { force: true });
      const t0 = nowMs();
      await runChild(meltano.meltano, ['run', 'tap-stamp', 'target-null'], project, meltanoEnv());
      return { toTap: (await waitForStamp(stamps, 1000)) - t0, whole: nowMs() - t0 };
    };
    const cliEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      MELTANO_PROJECT_ROOT: project,
      FLOE_TASK_QUEUE: taskQueue,
    };
    const cliRun = async (): Promise<number> => {
      fs.rmSync(stamps, { force: true });
      const t0 = nowMs();
      const out = await runChild(
        process.execPath,
        [path.join(root, 'bin', 'floe.js'), 'trigger', 'stamp', '--format', 'json'],
        project,
        cliEnv,
      );
      const toTap = (await waitForStamp(stamps)) - t0;
      await client.workflow.getHandle((JSON.parse(out) as { workflowId: string }).workflowId).result();
      return toTap;
    };

    const connection = await NativeConnection.connect({ address: server.address });
    try {
      const worker = await Worker.create({
        connection,
        namespace: server.namespace,
        taskQueue,
        workflowsPath: require.resolve('../src/workflows'),
        activities: createActivities({ projectRoot: project }),
        maxConcurrentActivityTaskExecutions: 4,
      });
      const floeTimes: { toTap: number; whole: number; startRpc: number }[] = [];
      const meltanoTimes: { toTap: number; whole: number }[] = [];
      const cliTimes: number[] = [];
      await worker.runUntil(async () => {
        // Warm-up: first workflow run on a new worker (sandbox creation) and meltano's first systemdb migration.
        for (let i = 0; i < 3; i++) await floeRun();
        await meltanoRun();
        for (let i = 0; i < runs; i++) {
          floeTimes.push(await floeRun());
          meltanoTimes.push(await meltanoRun());
        }
        for (let i = 0; i < cliRuns; i++) cliTimes.push(await cliRun());
      });
      const median = (xs: number[]) => distribution(xs).p50Ms;
      const floe = {
        ...distribution(floeTimes.map((t) => t.toTap)),
        wholeRunP50Ms: median(floeTimes.map((t) => t.whole)),
        startRpcP50Ms: median(floeTimes.map((t) => t.startRpc)),
      };
      const melt = {
        ...distribution(meltanoTimes.map((t) => t.toTap)),
        wholeRunP50Ms: median(meltanoTimes.map((t) => t.whole)),
        version: meltano.version,
      };
      return {
        floe,
        floeTriggerCli: {
          ...distribution(cliTimes),
          compiled: fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js')),
        },
        meltano: melt,
        ratioP50: Math.round((melt.p50Ms / floe.p50Ms) * 10) / 10,
        ratioP95: Math.round((melt.p95Ms / floe.p95Ms) * 10) / 10,
      };
    } finally {
      await connection.close();
    }
  });
}

/** meltano.yml with `count` jobs and schedules (one block each, daily crons spread over the day); the schedules
 * numbered in `changed` get another minute, as an edit would. */
export function manySchedulesYml(count: number, changed: ReadonlySet<number> = new Set()): string {
  const lines = [
    '# Generated by bench/orchestration.ts: the schedule-sync benchmark project.',
    'default_environment: dev',
    'project_id: floe-bench-sync',
    'environments:',
    '- name: dev',
    'plugins:',
    '  extractors:',
    '  - name: tap-stamp',
    '    namespace: tap_stamp',
    '    executable: ./tap-stamp.sh',
    '  loaders:',
    '  - name: target-null',
    '    namespace: target_null',
    '    executable: ./target-null.sh',
    'jobs:',
  ];
  const id = (i: number) => String(i).padStart(4, '0');
  for (let i = 0; i < count; i++) lines.push(`- name: job-${id(i)}`, '  tasks:', '  - tap-stamp target-null');
  lines.push('schedules:');
  for (let i = 0; i < count; i++) {
    const minute = (i + (changed.has(i) ? 30 : 0)) % 60;
    lines.push(`- name: sched-${id(i)}`, `  job: job-${id(i)}`, `  interval: '${minute} ${i % 24} * * *'`);
  }
  return `${lines.join('\n')}\n`;
}

export interface SyncStep {
  seconds: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export interface SyncBenchResult {
  schedules: number;
  concurrency: number;
  /** Reading and validating the 1,000-schedule meltano.yml (once per sync). */
  loadProjectMs: number;
  first: SyncStep;
  /** A re-sync at once: the server is still starting the new schedules' internal workflows. */
  noopAtOnce: SyncStep;
  /** How long the server kept using more than a fifth of a core after `noopAtOnce` (capped at 90 s). */
  serverBusySeconds: number;
  /** A re-sync once the server is quiet, as at a worker restart. */
  noop: SyncStep;
  tenChanged: SyncStep;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Waits until `pid` uses under 0.2 CPU seconds per second; resolves with the seconds waited. */
async function waitQuiet(pid: number, capSeconds: number): Promise<number> {
  const t0 = nowMs();
  let last = cpuSeconds(pid);
  while (nowMs() - t0 < capSeconds * 1000) {
    await sleep(1000);
    const now = cpuSeconds(pid);
    if (now - last < 0.2) break;
    last = now;
  }
  return Math.round((nowMs() - t0) / 100) / 10;
}

/**
 * Syncs `count` schedules three times: onto an empty server, again unchanged, and with 10 intervals changed.
 * @throws when the server fails or a sync does not create/update what it should.
 */
export async function benchSync(opts: { count?: number; concurrency?: number } = {}): Promise<SyncBenchResult> {
  const count = opts.count ?? 1000;
  const concurrency = opts.concurrency ?? 16;
  return withServer('sync', async ({ dir, client, server }) => {
    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    const yml = path.join(project, 'meltano.yml');
    const sync = async (changed: Set<number>): Promise<{ step: SyncStep; loadMs: number }> => {
      fs.writeFileSync(yml, manySchedulesYml(count, changed));
      const t0 = nowMs();
      const loaded = loadProject(project);
      const loadMs = nowMs() - t0;
      const r = await syncSchedules(client, loaded, { taskQueue: 'floe-bench-sync', projectKey: 'bench', concurrency });
      const seconds = Math.round((nowMs() - t0) / 10) / 100;
      const step = {
        seconds,
        created: r.created.length,
        updated: r.updated.length,
        unchanged: r.unchanged.length,
        deleted: r.deleted.length,
      };
      return { step, loadMs };
    };
    const first = await sync(new Set());
    const noopAtOnce = await sync(new Set());
    const serverBusySeconds = await waitQuiet(server.pid, 90);
    const noop = await sync(new Set());
    const tenChanged = await sync(new Set(Array.from({ length: 10 }, (_, k) => k * Math.floor(count / 10))));
    const expect = (name: string, got: SyncStep, want: Partial<SyncStep>) => {
      for (const [k, v] of Object.entries(want)) {
        if (got[k as keyof SyncStep] !== v)
          throw new Error(`sync bench ${name}: ${k} ${got[k as keyof SyncStep]}, expected ${v}`);
      }
    };
    expect('first', first.step, { created: count });
    expect('noopAtOnce', noopAtOnce.step, { unchanged: count });
    expect('noop', noop.step, { unchanged: count });
    expect('tenChanged', tenChanged.step, { updated: 10, unchanged: count - 10 });
    return {
      schedules: count,
      concurrency,
      loadProjectMs: Math.round(Math.max(first.loadMs, noop.loadMs, tenChanged.loadMs)),
      first: first.step,
      noopAtOnce: noopAtOnce.step,
      serverBusySeconds,
      noop: noop.step,
      tenChanged: tenChanged.step,
    };
  });
}

interface ProcInfo {
  ppid: number;
  rssKb: number;
}

/** Every process's parent and RSS, from /proc (processes that exit while being read are skipped). */
function processTable(): Map<number, ProcInfo> {
  const table = new Map<number, ProcInfo>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      table.set(Number(entry), { ppid, rssKb });
    } catch {
      // Gone already.
    }
  }
  return table;
}

export interface MemorySample {
  tS: number;
  phase: 'idle' | 'running' | 'after';
  workerRssMb: number;
  /** The worker's descendants running the project's tap and target scripts. */
  pluginRssMb: number;
  /** The same processes' proportional set size: shared pages (the Python interpreter) counted once in total. */
  pluginPssMb: number;
  pluginProcesses: number;
  /** Any other descendant (esbuild when run from source through tsx). */
  otherProcesses: number;
}

/** Proportional set size of a process in kB (0 when it is gone). */
function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** True when the process runs a file of the bench project (`<project>/tap-slow.py ...`): a plugin. */
function runsFileIn(project: string): (pid: number) => boolean {
  return (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${project}/`);
    } catch {
      return false;
    }
  };
}

function sampleTree(
  workerPid: number,
  isPlugin: (pid: number) => boolean,
  t0: number,
  phase: MemorySample['phase'],
): MemorySample {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, info] of table) children.set(info.ppid, [...(children.get(info.ppid) ?? []), pid]);
  let pluginKb = 0;
  let pluginPssKb = 0;
  let plugins = 0;
  let others = 0;
  const stack = [...(children.get(workerPid) ?? [])];
  while (stack.length) {
    const pid = stack.pop() as number;
    const info = table.get(pid);
    if (info && isPlugin(pid)) {
      pluginKb += info.rssKb;
      pluginPssKb += pssKb(pid);
      plugins++;
    } else others++;
    stack.push(...(children.get(pid) ?? []));
  }
  const mb = (kb: number) => Math.round(kb / 102.4) / 10;
  return {
    tS: Math.round((nowMs() - t0) / 100) / 10,
    phase,
    workerRssMb: mb(table.get(workerPid)?.rssKb ?? 0),
    pluginRssMb: mb(pluginKb),
    pluginPssMb: mb(pluginPssKb),
    pluginProcesses: plugins,
    otherProcesses: others,
  };
}

/** Points the fixture scripts' `#!/usr/bin/env python3` at the interpreter itself, as a plugin venv's
 * scripts are: a pyenv shim would add a bash process (and its helpers) to every plugin start. */
async function pinShebangs(dir: string, files: string[]): Promise<void> {
  const python = (await runChild('python3', ['-c', 'import sys; print(sys.executable)'], dir, process.env)).trim();
  for (const file of files) {
    const full = path.join(dir, file);
    const text = fs.readFileSync(full, 'utf8');
    fs.writeFileSync(full, text.replace(/^#!.*\n/, `#!${python}\n`));
  }
}

/** How long each slow-project tap runs: `seconds` in bench/fixtures/slow-project/meltano.yml. */
const SLOW_TAP_SECONDS = 30;

export interface MemoryBenchResult {
  pipelines: number;
  tapSeconds: number;
  worker: {
    /** Median RSS over the idle period after start. */
    idleMb: number;
    peakMb: number;
    /** Median RSS while every pipeline's tap and target were running. */
    steadyMb: number;
    /** Median RSS in the seconds after the last run finished. */
    afterMb: number;
    /** CPU the worker process used while the pipelines ran. */
    cpuSecondsWhileRunning: number;
  };
  plugins: {
    peakProcesses: number;
    /** Sum of RSS (each process's shared pages counted again). */
    peakMb: number;
    steadyMb: number;
    steadyMbPerProcess: number;
    /** Sum of PSS: what the plugins take from the machine together. */
    steadyPssMb: number;
  };
  /** Most descendants of the worker that were not plugins at once (esbuild under tsx; 0 when compiled). */
  otherProcessesMax: number;
  /** Samples with every pipeline's plugins up (2 per pipeline); 0 means they never all ran at once. */
  steadySamples: number;
  runsSeconds: number;
  samples: MemorySample[];
}

/**
 * Starts `node bin/floe.js worker --no-sync --max-concurrent-blocks <pipelines>` as a child, samples its RSS
 * (and its plugin processes') idle, with `pipelines` slow runs at once, and after them.
 * @throws when the worker does not start, or a run fails.
 */
export async function benchMemory(opts: { pipelines?: number; idleSeconds?: number } = {}): Promise<MemoryBenchResult> {
  const pipelines = opts.pipelines ?? 20;
  const idleSeconds = opts.idleSeconds ?? 10;
  const root = repoRoot();
  return withServer('memory', async ({ dir, server, client }) => {
    const project = copyFixture('slow-project', dir);
    await pinShebangs(project, ['tap-slow.py', 'target-slow.py']);
    const taskQueue = 'floe-bench-memory';
    const worker = spawn(
      process.execPath,
      [path.join(root, 'bin', 'floe.js'), 'worker', '--no-sync', '--max-concurrent-blocks', String(pipelines)],
      {
        cwd: project,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_NAMESPACE: server.namespace,
          MELTANO_PROJECT_ROOT: project,
          FLOE_TASK_QUEUE: taskQueue,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    worker.stderr.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-8000)));
    const exited = new Promise<void>((resolve) => worker.once('close', () => resolve()));
    try {
      const deadline = Date.now() + 120_000;
      while (!log.includes('Worker polling task queue')) {
        if (worker.exitCode !== null || Date.now() > deadline) {
          throw new Error(`The bench worker did not start (exit ${worker.exitCode}): ${log.slice(-2000)}`);
        }
        await sleep(100);
      }
      const pid = worker.pid as number;
      const isPlugin = runsFileIn(project);
      const t0 = nowMs();
      const samples: MemorySample[] = [];
      let phase: MemorySample['phase'] = 'idle';
      const timer = setInterval(() => samples.push(sampleTree(pid, isPlugin, t0, phase)), 500);
      try {
        await sleep(idleSeconds * 1000);
        phase = 'running';
        const cpu0 = cpuSeconds(pid);
        const started = nowMs();
        const handles = await Promise.all(
          Array.from({ length: pipelines }, (_, i) => {
            const input: PipelineInput = {
              trigger: 'manual',
              job: 'slow',
              environment: 'dev',
              flags: { stateIdSuffix: `p${i}` },
            };
            return client.workflow.start(PIPELINE_WORKFLOW_TYPE, {
              taskQueue,
              workflowId: `meltano_job_slow-bench-${i}`,
              args: [input],
            });
          }),
        );
        const results = (await Promise.all(handles.map((h) => h.result()))) as PipelineResult[];
        const runsSeconds = Math.round((nowMs() - started) / 100) / 10;
        const cpuSecondsWhileRunning = Math.round((cpuSeconds(pid) - cpu0) * 10) / 10;
        const failed = results.filter((r) => r.status !== 'succeeded').length;
        if (failed) throw new Error(`${failed} of ${pipelines} bench runs did not succeed.`);
        phase = 'after';
        await sleep(5000);
        clearInterval(timer);

        const of = (p: MemorySample['phase']) => samples.filter((s) => s.phase === p);
        const steady = of('running').filter((s) => s.pluginProcesses === 2 * pipelines);
        const median = (xs: number[]) => (xs.length ? distribution(xs).p50Ms : 0);
        const steadyPlugins = median(steady.map((s) => s.pluginRssMb));
        const steadyProcs = median(steady.map((s) => s.pluginProcesses));
        return {
          pipelines,
          tapSeconds: SLOW_TAP_SECONDS,
          worker: {
            idleMb: median(of('idle').map((s) => s.workerRssMb)),
            peakMb: Math.max(...samples.map((s) => s.workerRssMb)),
            steadyMb: median(steady.map((s) => s.workerRssMb)),
            afterMb: median(of('after').map((s) => s.workerRssMb)),
            cpuSecondsWhileRunning,
          },
          plugins: {
            peakProcesses: Math.max(...samples.map((s) => s.pluginProcesses)),
            peakMb: Math.max(...samples.map((s) => s.pluginRssMb)),
            steadyMb: steadyPlugins,
            steadyMbPerProcess: steadyProcs ? Math.round((steadyPlugins / steadyProcs) * 10) / 10 : 0,
            steadyPssMb: median(steady.map((s) => s.pluginPssMb)),
          },
          otherProcessesMax: Math.max(...samples.map((s) => s.otherProcesses)),
          steadySamples: steady.length,
          runsSeconds,
          samples: samples.filter((_, i) => i % 4 === 0),
        };
      } finally {
        clearInterval(timer);
      }
    } finally {
      if (worker.exitCode === null) worker.kill('SIGTERM');
      const killer = setTimeout(() => worker.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(killer);
    }
  });
}
