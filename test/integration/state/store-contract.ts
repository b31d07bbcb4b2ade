/**
 * The StateStore contract, applied to every backend (local-store.test.ts, postgres-store.test.ts). Each test uses
 * its own state IDs so backends may share one directory or database across tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { StateStore } from '../../../src/state/store';

export function describeStateStoreContract(name: string, getStore: () => StateStore): void {
  describe(`${name}: StateStore contract`, () => {
    let prefix: string;
    beforeEach(() => {
      prefix = `t${randomBytes(4).toString('hex')}`;
    });
    const id = (suffix: string) => `${prefix}:tap-a-to-target-b${suffix}`;

    it('returns undefined for an unknown state ID', async () => {
      assert.equal(await getStore().get(id('')), undefined);
    });

    it('sets and gets a record as is', async () => {
      const record = {
        completed: { singer_state: { bookmarks: { s: { v: 1 } } } },
        partial: { singer_state: { x: [1, 2] } },
      };
      await getStore().set(id(''), record);
      assert.deepEqual(await getStore().get(id('')), record);
    });

    it('writes complete state over everything and resets partial', async () => {
      const store = getStore();
      await store.update(id(''), { a: 1 }, 'partial');
      const written = await store.update(id(''), { bookmarks: { s: 2 } }, 'complete');
      assert.deepEqual(written, { completed: { singer_state: { bookmarks: { s: 2 } } }, partial: {} });
      assert.deepEqual(await store.get(id('')), written);
    });

    it('merges partial state into partial and keeps completed', async () => {
      const store = getStore();
      await store.update(id(''), { bookmarks: { s1: { v: 1 }, s2: { v: 1 } } }, 'complete');
      await store.update(id(''), { bookmarks: { s1: { v: 2 } } }, 'partial');
      await store.update(id(''), { bookmarks: { s3: { v: 3 } }, partitions: [1] }, 'partial');
      assert.deepEqual(await store.get(id('')), {
        completed: { singer_state: { bookmarks: { s1: { v: 1 }, s2: { v: 1 } } } },
        partial: { singer_state: { bookmarks: { s1: { v: 2 }, s3: { v: 3 } }, partitions: [1] } },
      });
    });

    it('loses no partial update among concurrent writers', async () => {
      const store = getStore();
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      await Promise.all(keys.map((k) => store.update(id(''), { bookmarks: { [k]: 1 } }, 'partial')));
      const record = await store.get(id(''));
      const bookmarks = (record?.partial.singer_state as { bookmarks: Record<string, number> }).bookmarks;
      assert.deepEqual(Object.keys(bookmarks).sort(), [...keys].sort());
    });

    it('clears state and reports whether there was any', async () => {
      const store = getStore();
      await store.update(id(''), { a: 1 }, 'complete');
      assert.equal(await store.clear(id('')), true);
      assert.equal(await store.get(id('')), undefined);
      assert.equal(await store.clear(id('')), false);
    });

    it('lists state IDs sorted and filtered by a glob', async () => {
      const store = getStore();
      for (const s of [':b', ':a', ':c1']) await store.update(id(s), {}, 'complete');
      assert.deepEqual(await store.list(`${prefix}:*`), [id(':a'), id(':b'), id(':c1')]);
      assert.deepEqual(await store.list(`${prefix}:*:?`), [id(':a'), id(':b')]);
      assert.deepEqual(await store.list(`${prefix}:*:[!a]*`), [id(':b'), id(':c1')]);
      assert.ok((await store.list()).includes(id(':a')));
    });

    it('rejects a second live run lease and names the holder', async () => {
      const store = getStore();
      const lease = await store.acquireRunLease(id(''), { owner: 'run-1@host-a', ttlMs: 60_000 });
      const held = await store.describeRunLease(id(''));
      assert.equal(held?.owner, 'run-1@host-a');
      await assert.rejects(store.acquireRunLease(id(''), { owner: 'run-2@host-b', ttlMs: 60_000 }), {
        name: 'StateIdBusyError',
        message:
          `Another run of '${id('')}' is already running: 'run-1@host-a' holds it since ${held.acquiredAt.toISOString()} ` +
          `(lease valid until ${held.expiresAt.toISOString()}); wait for it to finish, or pass --force if you are sure it is gone.`,
      });
      await lease.release();
      const next = await store.acquireRunLease(id(''), { owner: 'run-2@host-b', ttlMs: 60_000 });
      assert.equal((await store.describeRunLease(id('')))?.owner, 'run-2@host-b');
      await next.release();
      assert.equal(await store.describeRunLease(id('')), undefined);
    });

    it('lets --force take a live lease, after which the old holder cannot renew', async () => {
      const store = getStore();
      const old = await store.acquireRunLease(id(''), { owner: 'run-1', ttlMs: 60_000 });
      const forced = await store.acquireRunLease(id(''), { owner: 'run-2', ttlMs: 60_000, force: true });
      const held = await store.describeRunLease(id(''));
      await assert.rejects(old.renew(), {
        name: 'StateIdBusyError',
        message:
          `The run lease of '${id('')}' held by 'run-1' was lost ('run-2' holds it since ${held!.acquiredAt.toISOString()}): ` +
          'it was not renewed within its ttl or was taken with --force; stop this run.',
      });
      await old.release(); // not ours any more: must leave run-2's lease alone
      assert.equal((await store.describeRunLease(id('')))?.owner, 'run-2');
      await forced.renew();
      await forced.release();
    });

    it('lets another owner take a lease that was not renewed within its ttl', async () => {
      const store = getStore();
      const stale = await store.acquireRunLease(id(''), { owner: 'crashed', ttlMs: 50 });
      await new Promise((r) => setTimeout(r, 120));
      const taken = await store.acquireRunLease(id(''), { owner: 'fresh', ttlMs: 60_000 });
      await assert.rejects(stale.renew(), { name: 'StateIdBusyError' });
      assert.equal((await store.describeRunLease(id('')))?.owner, 'fresh');
      await taken.release();
    });

    it('renews a lease so it stays live past its first ttl', async () => {
      const store = getStore();
      const lease = await store.acquireRunLease(id(''), { owner: 'long-run', ttlMs: 1000 });
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 300));
        await lease.renew();
      }
      await assert.rejects(store.acquireRunLease(id(''), { owner: 'other', ttlMs: 1000 }), {
        name: 'StateIdBusyError',
      });
      await lease.release();
    });

    it('gives the same owner its lease back (a retried attempt)', async () => {
      const store = getStore();
      const first = await store.acquireRunLease(id(''), { owner: 'wf-1/run-1', ttlMs: 60_000 });
      const retry = await store.acquireRunLease(id(''), { owner: 'wf-1/run-1', ttlMs: 60_000 });
      await assert.rejects(first.renew(), { name: 'StateIdBusyError' });
      await retry.renew();
      await retry.release();
    });
  });
}
