/**
 * `npm run bench`: floe's benchmarks, each measured side by side in one run and reported as JSON on stdout.
 * Numbers, not assertions: docs/benchmarks.md records what was measured, on which machine.
 */
import { benchRelay } from './relay';

async function main(): Promise<void> {
  const megabytes = Number(process.env.FLOE_BENCH_RELAY_MB ?? 300);
  const results = [];
  for (const generator of ['prebuilt', 'serializing'] as const) {
    results.push(await benchRelay({ generator, megabytes, rounds: 2 }));
  }
  process.stdout.write(`${JSON.stringify({ relay: results }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
