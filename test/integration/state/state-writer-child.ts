/**
 * A separate process that writes state, for local-store-processes.test.ts:
 *   partial <root> <stateId> <writer> <count>   count partial updates, each adding key `<writer>-<i>`
 *   complete <root> <stateId> <padBytes>        complete updates {n, pad} forever, printing each n once written
 */
import { LocalStateStore } from '../../../src/state/local-store';

async function main(): Promise<void> {
  const [mode, root, stateId, a, b] = process.argv.slice(2);
  const store = new LocalStateStore({ root: root!, lockWaitMs: 120_000 });
  if (mode === 'partial') {
    for (let i = 0; i < Number(b); i++) {
      await store.update(stateId!, { bookmarks: { [`${a}-${i}`]: i } }, 'partial');
    }
    return;
  }
  const pad = 'x'.repeat(Number(a));
  for (let n = 0; ; n++) {
    await store.update(stateId!, { n, pad }, 'complete');
    process.stdout.write(`${n}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
