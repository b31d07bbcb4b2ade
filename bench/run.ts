/**
 * `npm run bench`: floe's benchmarks, each measured side by side in one run and reported as JSON on stdout.
 * Numbers, not assertions: docs/benchmarks.md records what was measured, on which machine.
 *
 * `npm run bench -- relay trigger sync memory run-vs-meltano mysql2pg` picks benchmarks (default: all, in that
 * order).
 */
import * as os from 'node:os';
import { benchMysql2pg } from './mysql2pg';
import { benchMemory, benchSync, benchTrigger } from './orchestration';
import { benchRelay } from './relay';
import { benchRunVsMeltano } from './run-vs-meltano';

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  relay: async () => {
    const megabytes = Number(process.env.FLOE_BENCH_RELAY_MB ?? 300);
    const results = [];
    for (const generator of ['prebuilt', 'serializing', 'python'] as const) {
      results.push(await benchRelay({ generator, megabytes, rounds: 2 }));
    }
    return results;
  },
  trigger: () => benchTrigger(),
  sync: () => benchSync(),
  memory: () => benchMemory(),
  'run-vs-meltano': () =>
    benchRunVsMeltano({
      records: Number(process.env.FLOE_BENCH_RECORDS ?? 200_000),
      rounds: Number(process.env.FLOE_BENCH_ROUNDS ?? 3),
    }),
  mysql2pg: () => benchMysql2pg({ rounds: Number(process.env.FLOE_BENCH_ROUNDS ?? 2) }),
};

async function main(): Promise<void> {
  const picked = process.argv.slice(2);
  const unknown = picked.filter((name) => !(name in BENCHMARKS));
  if (unknown.length) {
    throw new Error(`unknown benchmark '${unknown.join("', '")}'; pick from ${Object.keys(BENCHMARKS).join(', ')}.`);
  }
  const out: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
      node: process.version,
    },
  };
  for (const name of picked.length ? picked : Object.keys(BENCHMARKS)) {
    const started = Date.now();
    process.stderr.write(`bench: ${name}...\n`);
    out[name] = await BENCHMARKS[name]!();
    process.stderr.write(`bench: ${name} took ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
  out.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 10) / 10);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
