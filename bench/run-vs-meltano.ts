/**
 * `floe run` vs `meltano run` on one project (bench/fixtures/run-vs-meltano/meltano.yml): the same real PyPI
 * plugins (tap-jsonl 0.3.1 reading a generated JSONL file -> target-jsonl 0.1.4) from the same venvs, the same
 * data, the same `file://` state backend, the same CLI flags. One untimed warm-up run of each, then `rounds` timed
 * runs of each, alternating (the order flips every round). Every run must move exactly `records` records (the
 * lines target-jsonl wrote are counted) and write the state file, or the bench throws.
 *
 * The project lives in `.floe/bench/run-vs-meltano/` (outside git): its plugin venvs and data file are reused by
 * later runs. Meltano comes from `.floe/bench/meltano-venv` (bench/meltano.ts). Wall time includes each CLI's
 * start-up, as a user sees it; CPU is the whole process tree's (CLI plus plugins), from this process's
 * reaped-children times.
 *
 * Run: `npx tsx bench/run-vs-meltano.ts [records] [rounds]` (default 200,000 records, 3 rounds), or
 * `npm run bench -- run-vs-meltano` (env FLOE_BENCH_RECORDS, FLOE_BENCH_ROUNDS).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../src/plugins/run-command';
import { ensureMeltano, meltanoEnv } from './meltano';
import { median, round2 } from './stats';

export interface RunVsMeltanoOptions {
  records: number;
  rounds: number;
}

export type Tool = 'floe' | 'meltano';

export interface ToolRun {
  tool: Tool;
  seconds: number;
  recordsPerSec: number;
  /** CPU seconds of the CLI and every plugin it ran (user + system). */
  cpuSeconds: number;
  records: number;
}

export interface ToolSummary {
  runs: ToolRun[];
  bestSeconds: number;
  medianSeconds: number;
  medianRecordsPerSec: number;
  medianCpuSeconds: number;
}

export interface RunVsMeltanoResult {
  records: number;
  rounds: number;
  meltanoVersion: string;
  /** `dist`: the compiled CLI (npm run build); `tsx`: compiled on the fly at start-up (slower start). */
  floeEntry: 'dist' | 'tsx';
  floe: ToolSummary;
  meltano: ToolSummary;
  /** Meltano's median wall time / floe's: above 1 means floe is faster. */
  medianSpeedup: number;
  bestSpeedup: number;
  loadAverage: { before: number[]; after: number[] };
  node: string;
  cpus: number;
}

const PROJECT = path.join('.floe', 'bench', 'run-vs-meltano');
const FIXTURE = path.join('bench', 'fixtures', 'run-vs-meltano', 'meltano.yml');
const BLOCK = ['tap-jsonl', 'target-jsonl'];
const STATE_ID = 'dev:tap-jsonl-to-target-jsonl';

/** The repository root: the nearest parent holding bench/fixtures (this file runs from bench/ or dist/bench/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, FIXTURE))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`bench fixture ${FIXTURE} not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Writes `count` deterministic user records unless the file already holds exactly those. */
function ensureData(file: string, count: number): void {
  const marker = `${file}.count`;
  if (fs.existsSync(file) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === String(count)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    let batch = '';
    for (let i = 1; i <= count; i++) {
      const score = Math.round(((i * 37) % 10000) / 100);
      batch += `{"id": ${i}, "name": "user ${i}", "email": "user${i}@example.com", "signup_date": "2026-02-02", "score": ${score}.5}\n`;
      if (batch.length > 1 << 20) {
        fs.writeSync(fd, batch);
        batch = '';
      }
    }
    fs.writeSync(fd, batch);
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(marker, String(count));
}

/** CPU seconds of this process's reaped children (and theirs), from /proc/self/stat (cutime + cstime). */
function childrenCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 3 is index 0, so cutime (16) and cstime (17) are indexes 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function countLines(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const buf = fs.readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Runs the benchmark; throws when a run fails or moves another number of records than the data file holds. */
export async function benchRunVsMeltano(opts: Partial<RunVsMeltanoOptions> = {}): Promise<RunVsMeltanoResult> {
  const o: RunVsMeltanoOptions = { records: 200_000, rounds: 3, ...opts };
  const root = repoRoot();
  const project = path.join(root, PROJECT);
  const stateDir = path.join(project, 'state');
  const outputFile = path.join(project, 'output', 'users.jsonl');
  fs.mkdirSync(project, { recursive: true });
  const yml = fs
    .readFileSync(path.join(root, FIXTURE), 'utf8')
    .replace('uri: __STATE_URI__', `uri: file://${stateDir}`);
  fs.writeFileSync(path.join(project, 'meltano.yml'), yml);
  ensureData(path.join(project, 'data', 'users.jsonl'), o.records);

  const melt = await ensureMeltano(root);
  const env = meltanoEnv();
  delete env.MELTANO_PROJECT_ROOT;
  delete env.MELTANO_ENVIRONMENT;
  const uv = path.join(root, '.floe', 'tools', 'venv', 'bin', 'uv');
  if (fs.existsSync(uv)) env.UV = uv;
  const floeBin = path.join(root, 'bin', 'floe.js');
  // Both tools use the venvs floe installs (Meltano's layout and fingerprint): a no-op once installed.
  const installed = await runCommand(process.execPath, [floeBin, 'install'], { cwd: project, env });
  if (installed.code !== 0) throw new Error(`floe install failed in ${project}: ${installed.tail.join('\n')}`);

  const commands: Record<Tool, [string, string[]]> = {
    floe: [process.execPath, [floeBin, 'run', ...BLOCK]],
    // --no-install: floe run never installs either (it fails when a plugin is missing).
    meltano: [melt.meltano, ['run', '--no-install', ...BLOCK]],
  };
  const runOnce = async (tool: Tool): Promise<ToolRun> => {
    fs.rmSync(path.join(project, 'output'), { recursive: true, force: true });
    fs.mkdirSync(path.join(project, 'output'));
    fs.rmSync(stateDir, { recursive: true, force: true });
    const [cmd, args] = commands[tool];
    const cpu0 = childrenCpuSeconds();
    const started = process.hrtime.bigint();
    const r = await runCommand(cmd, args, { cwd: project, env });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuSeconds = Math.round((childrenCpuSeconds() - cpu0) * 100) / 100;
    if (r.code !== 0)
      throw new Error(
        `${tool} run exited with code ${r.code ?? r.signal}: ${r.spawnError?.message ?? r.tail.join('\n')}`,
      );
    const records = countLines(outputFile);
    if (records !== o.records) throw new Error(`${tool} run moved ${records} records, expected ${o.records}`);
    if (!fs.existsSync(path.join(stateDir, STATE_ID, 'state.json'))) {
      throw new Error(`${tool} run wrote no state file under ${stateDir}`);
    }
    return { tool, seconds: round2(seconds), recordsPerSec: Math.round(records / seconds), cpuSeconds, records };
  };

  const loadBefore = os.loadavg();
  await runOnce('floe');
  await runOnce('meltano');
  const runs: Record<Tool, ToolRun[]> = { floe: [], meltano: [] };
  for (let round = 0; round < o.rounds; round++) {
    const order: Tool[] = round % 2 === 0 ? ['floe', 'meltano'] : ['meltano', 'floe'];
    for (const tool of order) runs[tool].push(await runOnce(tool));
  }
  const floe = summarize(runs.floe);
  const meltano = summarize(runs.meltano);
  return {
    records: o.records,
    rounds: o.rounds,
    meltanoVersion: melt.version,
    floeEntry: fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js')) ? 'dist' : 'tsx',
    floe,
    meltano,
    medianSpeedup: round2(meltano.medianSeconds / floe.medianSeconds),
    bestSpeedup: round2(meltano.bestSeconds / floe.bestSeconds),
    loadAverage: { before: loadBefore.map(round2), after: os.loadavg().map(round2) },
    node: process.version,
    cpus: os.cpus().length,
  };
}

function summarize(runs: ToolRun[]): ToolSummary {
  return {
    runs,
    bestSeconds: Math.min(...runs.map((r) => r.seconds)),
    medianSeconds: median(runs.map((r) => r.seconds)),
    medianRecordsPerSec: Math.round(median(runs.map((r) => r.recordsPerSec))),
    medianCpuSeconds: round2(median(runs.map((r) => r.cpuSeconds))),
  };
}

if (require.main === module) {
  const [records, rounds] = process.argv.slice(2).map(Number);
  benchRunVsMeltano({ ...(records ? { records } : {}), ...(rounds ? { rounds } : {}) })
    .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
