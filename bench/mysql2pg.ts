/**
 * mysql2pg: 200,000 rows from MariaDB to PostgreSQL 15 with the real plugins (pipelinewise-tap-mysql 1.6.0,
 * meltanolabs-target-postgres 0.8.1, INCREMENTAL on `updated_at`, `load_method: upsert`), moved three ways from
 * one project (bench/fixtures/mysql2pg/meltano.yml, copied to `.floe/bench/mysql2pg/`):
 *   floe:          `floe run tap-mysql target-postgres` (the local engine, no Temporal);
 *   meltano:       `meltano run --no-install tap-mysql target-postgres` (Meltano 4.4.1, bench/meltano.ts);
 *   floe-temporal: `floe trigger mysql2pg --wait` against a dev server with a `floe worker` process running.
 * Every run is a full load into its own empty schema (`bench_<tool>`, dropped before the run) with its own empty
 * `file://` state backend; it must leave exactly `rows` rows in PostgreSQL and a state file, or the bench throws.
 * Rounds alternate the order of the tools. Wall time includes each CLI's start-up, as a user sees it.
 *
 * Servers (MariaDB, PostgreSQL, Temporal) are started by the bench on free loopback ports and stopped at the end.
 * Run: `npm run bench -- mysql2pg` (env FLOE_BENCH_ROUNDS, default 2) or `npx tsx bench/mysql2pg.ts [rounds]`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from '../src/plugins/run-command';
import { startDevServer } from '../src/server/dev-server';
import type { DevServer } from '../src/server/dev-server';
import { ensureTemporalCli } from '../src/server/temporal-cli';
import { FLOE_SEARCH_ATTRIBUTES } from '../src/shared/search-attributes';
import { withPg } from '../test/e2e/mysql2pg-project';
import { startMariaDb } from '../test/helpers/mariadb';
import type { MariaDb } from '../test/helpers/mariadb';
import { startPostgres } from '../test/helpers/postgres';
import type { TestPostgres } from '../test/helpers/postgres';
import { ensureMeltano, meltanoEnv } from './meltano';
import { repoRoot } from './orchestration';
import { median, round2 } from './stats';

export type Mysql2pgTool = 'floe' | 'meltano' | 'floe-temporal';
const TOOLS: Mysql2pgTool[] = ['floe', 'meltano', 'floe-temporal'];
const ROWS = 200_000;
const TABLE = 'bulk_events';

export interface Mysql2pgRun {
  tool: Mysql2pgTool;
  round: number;
  seconds: number;
  rowsPerSec: number;
  rows: number;
  /** CPU seconds of the tool's processes and the plugins they ran (for floe-temporal: the worker's tree + the CLI). */
  cpuSeconds: number;
  /** Busy CPU seconds of the whole machine (both cores, /proc/stat) during the run: the rest is other work. */
  machineCpuSeconds: number;
  loadAverage1m: { before: number; after: number };
  /** What bin/floe.js ran for floe's CLI processes: the build when it is fresh, else the sources through tsx. */
  floeEntry: 'dist' | 'tsx';
}

export interface Mysql2pgSummary {
  runs: Mysql2pgRun[];
  bestSeconds: number;
  medianSeconds: number;
  medianRowsPerSec: number;
  medianCpuSeconds: number;
}

export interface Mysql2pgResult {
  rows: number;
  rounds: number;
  meltanoVersion: string;
  /** What bin/floe.js ran for the `floe worker` of floe-temporal (chosen once, at the worker's start). */
  workerEntry: 'dist' | 'tsx';
  /** `floe install` of both plugins (0 s-ish when the venvs exist) and `meltano install` right after it. */
  setupSeconds: { floeInstall: number; meltanoInstall: number; sourceLoad: number };
  tools: Record<Mysql2pgTool, Mysql2pgSummary>;
  /** floe's median rows/s divided by Meltano's: above 1 means faster than `meltano run`. */
  ratioToMeltano: { floe: number; floeTemporal: number };
  loadAverage: { before: number[]; after: number[] };
  cpus: number;
  node: string;
}

/** CPU seconds (user + system) of `pid` and its reaped children, from /proc. */
function treeCpuSeconds(pid: number | 'self', ownToo: boolean): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 (utime, stime, cutime, cstime) are indexes 11-14 once the first two fields are cut off.
  const children = Number(f[13]) + Number(f[14]);
  return (ownToo ? Number(f[11]) + Number(f[12]) + children : children) / 100;
}

/** Busy (non-idle, non-iowait) CPU seconds of the machine since boot, summed over every core. */
function machineBusySeconds(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
}

function newestTs(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(full));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** bin/floe.js's own choice: the compiled CLI when it is at least as new as every source file. */
function floeEntry(root: string): 'dist' | 'tsx' {
  const main = path.join(root, 'dist', 'src', 'cli', 'main.js');
  return fs.existsSync(main) && fs.statSync(main).mtimeMs >= newestTs(path.join(root, 'src')) ? 'dist' : 'tsx';
}

/** Runs a command to completion; rejects with its exit and output tail unless it exits 0. */
async function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runCommand(cmd, args, { cwd, env });
  if (r.code !== 0) {
    const why = r.spawnError?.message ?? r.tail.join('\n');
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.code ?? r.signal}: ${why}`);
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return round2(Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Starts `floe worker --no-sync` (no Temporal Schedule is created: only manual runs happen) and waits for it. */
async function startWorker(floeBin: string, project: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const worker = spawn(process.execPath, [floeBin, 'worker', '--no-sync'], {
    cwd: project,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  worker.stderr.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-8000)));
  const deadline = Date.now() + 120_000;
  while (!log.includes('Worker polling task queue')) {
    if (worker.exitCode !== null || Date.now() > deadline) {
      worker.kill('SIGKILL');
      throw new Error(`The bench worker did not start (exit ${worker.exitCode}): ${log.slice(-2000)}`);
    }
    await sleep(100);
  }
  return worker;
}

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => worker.once('close', () => resolve()));
  worker.kill('SIGTERM');
  const killer = setTimeout(() => worker.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(killer);
}

/** Runs the benchmark; throws when a server or a run fails, or a run leaves another row count than `ROWS`. */
export async function benchMysql2pg(opts: { rounds?: number } = {}): Promise<Mysql2pgResult> {
  const rounds = opts.rounds ?? 2;
  const root = repoRoot();
  const project = path.join(root, '.floe', 'bench', 'mysql2pg');
  fs.mkdirSync(project, { recursive: true });
  fs.copyFileSync(path.join(root, 'bench', 'fixtures', 'mysql2pg', 'meltano.yml'), path.join(project, 'meltano.yml'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-mysql2pg-'));
  const floeBin = path.join(root, 'bin', 'floe.js');
  const loadBefore = os.loadavg();
  const melt = await ensureMeltano(root);

  let db: MariaDb | undefined;
  let pg: TestPostgres | undefined;
  let server: DevServer | undefined;
  let worker: ChildProcess | undefined;
  try {
    [db, pg] = await Promise.all([startMariaDb({ database: 'floe_src' }), startPostgres()]);
    const sql = fs.readFileSync(path.join(root, 'test', 'fixtures', 'mysql', 'bulk-200k.sql'), 'utf8');
    const sourceLoad = await timed(() => db!.query(sql));
    const [src] = await db.query(`SELECT COUNT(*) AS n FROM floe_src.${TABLE}`);
    if (Number(src?.n) !== ROWS) throw new Error(`The source holds ${src?.n} rows, expected ${ROWS}.`);

    const base = meltanoEnv();
    for (const k of Object.keys(base)) {
      if (/^(TEMPORAL_|FLOE_|MELTANO_PROJECT_ROOT|MELTANO_ENVIRONMENT|TAP_MYSQL_|TARGET_POSTGRES_)/.test(k)) {
        delete base[k];
      }
    }
    Object.assign(base, {
      TAP_MYSQL_HOST: db.host,
      TAP_MYSQL_PORT: String(db.port),
      TAP_MYSQL_USER: db.user,
      TAP_MYSQL_PASSWORD: db.password,
      TAP_MYSQL_DATABASE: db.database,
      TARGET_POSTGRES_HOST: pg.host,
      TARGET_POSTGRES_PORT: String(pg.port),
      TARGET_POSTGRES_USER: pg.user,
      TARGET_POSTGRES_PASSWORD: pg.password,
      TARGET_POSTGRES_DATABASE: pg.database,
    });
    const uv = path.join(root, '.floe', 'tools', 'venv', 'bin', 'uv');
    if (fs.existsSync(uv)) base.UV = uv;
    const schemaOf = (tool: Mysql2pgTool) => `bench_${tool.replace('-', '_')}`;
    const stateDirOf = (tool: Mysql2pgTool) => path.join(tmp, `state-${tool}`);
    const envOf = (tool: Mysql2pgTool): NodeJS.ProcessEnv => ({
      ...base,
      TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA: schemaOf(tool),
      MELTANO_STATE_BACKEND_URI: `file://${stateDirOf(tool)}`,
    });

    // Installed once for both tools; Meltano then finds its fingerprints and installs nothing.
    const floeInstall = await timed(() => exec(process.execPath, [floeBin, 'install'], project, envOf('floe')));
    const meltanoInstall = await timed(() => exec(melt.meltano, ['install'], project, envOf('meltano')));
    // Untimed: Meltano's first command in a project creates and migrates its system database.
    await exec(melt.meltano, ['state', 'list'], project, envOf('meltano'));

    const cliPath = await ensureTemporalCli(root);
    server = await startDevServer({
      cliPath,
      dbFile: path.join(tmp, 'temporal.db'),
      headless: true,
      searchAttributes: FLOE_SEARCH_ATTRIBUTES,
      logFile: path.join(tmp, 'temporal.log'),
    });
    const temporalEnv = {
      ...envOf('floe-temporal'),
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      FLOE_TASK_QUEUE: 'floe-bench-mysql2pg',
    };
    const workerEntry = floeEntry(root);
    worker = await startWorker(floeBin, project, temporalEnv);
    const workerPid = worker.pid as number;

    const commands: Record<Mysql2pgTool, [string, string[], NodeJS.ProcessEnv]> = {
      floe: [process.execPath, [floeBin, 'run', 'tap-mysql', 'target-postgres'], envOf('floe')],
      // --no-install: floe run never installs either; `meltano install` above found both plugins installed.
      meltano: [melt.meltano, ['run', '--no-install', 'tap-mysql', 'target-postgres'], envOf('meltano')],
      'floe-temporal': [process.execPath, [floeBin, 'trigger', 'mysql2pg', '--wait'], temporalEnv],
    };
    const runOnce = async (tool: Mysql2pgTool, round: number): Promise<Mysql2pgRun> => {
      const schema = schemaOf(tool);
      await withPg(pg!, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      fs.rmSync(stateDirOf(tool), { recursive: true, force: true });
      const [cmd, args, env] = commands[tool];
      const entry = floeEntry(root);
      const load1 = os.loadavg()[0]!;
      const cpu0 = treeCpuSeconds('self', false) + treeCpuSeconds(workerPid, true);
      const machine0 = machineBusySeconds();
      const seconds = await timed(() => exec(cmd, args, project, env));
      // The worker's own polling CPU lands in every run; it is ~0 next to the plugins'.
      const cpu = treeCpuSeconds('self', false) + treeCpuSeconds(workerPid, true) - cpu0;
      const machineCpuSeconds = round2(machineBusySeconds() - machine0);
      const rows = await withPg(pg!, async (c) => {
        const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.${TABLE}`);
        return Number(r.rows[0]?.n);
      });
      if (rows !== ROWS)
        throw new Error(`${tool} round ${round} left ${rows} rows in ${schema}.${TABLE}, expected ${ROWS}.`);
      const states = fs.existsSync(stateDirOf(tool))
        ? fs.readdirSync(stateDirOf(tool), { recursive: true }).filter((f) => String(f).endsWith('state.json'))
        : [];
      if (states.length === 0) throw new Error(`${tool} round ${round} wrote no state file under ${stateDirOf(tool)}.`);
      const run: Mysql2pgRun = {
        tool,
        round,
        seconds,
        rowsPerSec: Math.round(rows / seconds),
        rows,
        cpuSeconds: round2(cpu),
        machineCpuSeconds,
        loadAverage1m: { before: round2(load1), after: round2(os.loadavg()[0]!) },
        floeEntry: entry,
      };
      process.stderr.write(`bench: mysql2pg ${JSON.stringify(run)}\n`);
      return run;
    };

    const runs: Mysql2pgRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      const shift = (round - 1) % TOOLS.length;
      for (const tool of [...TOOLS.slice(shift), ...TOOLS.slice(0, shift)]) runs.push(await runOnce(tool, round));
    }
    const tools = Object.fromEntries(TOOLS.map((t) => [t, summarize(runs.filter((r) => r.tool === t))])) as Record<
      Mysql2pgTool,
      Mysql2pgSummary
    >;
    return {
      rows: ROWS,
      rounds,
      meltanoVersion: melt.version,
      workerEntry,
      setupSeconds: { floeInstall, meltanoInstall, sourceLoad },
      tools,
      ratioToMeltano: {
        floe: round2(tools.floe.medianRowsPerSec / tools.meltano.medianRowsPerSec),
        floeTemporal: round2(tools['floe-temporal'].medianRowsPerSec / tools.meltano.medianRowsPerSec),
      },
      loadAverage: { before: loadBefore.map(round2), after: os.loadavg().map(round2) },
      cpus: os.cpus().length,
      node: process.version,
    };
  } finally {
    if (worker) await stopWorker(worker);
    await server?.stop();
    await Promise.all([db?.stop(), pg?.stop()]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function summarize(runs: Mysql2pgRun[]): Mysql2pgSummary {
  return {
    runs,
    bestSeconds: Math.min(...runs.map((r) => r.seconds)),
    medianSeconds: round2(median(runs.map((r) => r.seconds))),
    medianRowsPerSec: Math.round(median(runs.map((r) => r.rowsPerSec))),
    medianCpuSeconds: round2(median(runs.map((r) => r.cpuSeconds))),
  };
}

if (require.main === module) {
  const rounds = Number(process.argv[2]) || undefined;
  benchMysql2pg(rounds ? { rounds } : {})
    .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
