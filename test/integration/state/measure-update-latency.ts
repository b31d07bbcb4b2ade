/**
 * Measures StateStore.update latency for both backends (no assertions; speed belongs in reports, not tests):
 *   npx tsx test/integration/state/measure-update-latency.ts [iterations=300]
 * Starts its own PostgreSQL (test/helpers/postgres.ts) and a temp directory; removes both afterwards.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStateStore } from '../../../src/state/local-store';
import type { StateFlag } from '../../../src/state/merge';
import { PostgresStateStore } from '../../../src/state/postgres-store';
import type { StateStore } from '../../../src/state/store';
import { startPostgres } from '../../helpers/postgres';

async function measure(store: StateStore, flag: StateFlag, n: number): Promise<string> {
  const id = `bench:tap-a-to-target-b:${flag}`;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    // A realistic SDK-like state: 20 streams, one advancing per STATE message.
    const state = {
      bookmarks: Object.fromEntries(
        Array.from({ length: 20 }, (_, s) => [`stream_${s}`, { replication_key_value: i }]),
      ),
    };
    const t0 = process.hrtime.bigint();
    await store.update(id, state, flag);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);
  const mean = (times.reduce((a, b) => a + b, 0) / times.length).toFixed(2);
  return `${flag.padEnd(8)} n=${n} mean=${mean}ms p50=${q(0.5)}ms p95=${q(0.95)}ms p99=${q(0.99)}ms max=${q(1)}ms`;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 300);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-state-bench-'));
  const pg = await startPostgres();
  const local = new LocalStateStore({ root });
  const postgres = new PostgresStateStore({ uri: pg.uri });
  try {
    await postgres.get('warm-up'); // creates the tables outside the measurement
    for (const [name, store] of [
      ['local', local],
      ['postgres', postgres],
    ] as const) {
      for (const flag of ['complete', 'partial'] as const)
        console.log(`${name.padEnd(9)} ${await measure(store, flag, n)}`);
    }
  } finally {
    await postgres.close();
    await pg.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

void main();
