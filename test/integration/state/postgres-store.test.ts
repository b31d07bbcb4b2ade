import assert from 'node:assert/strict';
import { PostgresStateStore, redactUri } from '../../../src/state/postgres-store';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';
import { describeStateStoreContract } from './store-contract';

describe('state/postgres-store', () => {
  let pg: TestPostgres;
  let store: PostgresStateStore;
  before(async () => {
    pg = await startPostgres();
    store = new PostgresStateStore({ uri: pg.uri });
  });
  after(async () => {
    await store?.close();
    await pg?.stop();
  });

  describeStateStoreContract('postgres', () => store);

  it('loses no partial update among writers on separate connection pools (separate workers)', async () => {
    const workers = Array.from({ length: 4 }, () => new PostgresStateStore({ uri: pg.uri, maxConnections: 2 }));
    try {
      await Promise.all(
        workers.flatMap((w, wi) =>
          Array.from({ length: 10 }, (_, i) =>
            w.update('prod:tap-x-to-target-y', { bookmarks: { [`w${wi}-${i}`]: i } }, 'partial'),
          ),
        ),
      );
      const record = await store.get('prod:tap-x-to-target-y');
      assert.equal(Object.keys((record?.partial.singer_state as { bookmarks: object }).bookmarks).length, 40);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('hides the password in its label and in errors', async () => {
    assert.equal(store.label, pg.uri.replace(pg.password, '***'));
    const wrong = new PostgresStateStore({
      uri: `postgresql://${pg.user}:not-the-password@127.0.0.1:${pg.port}/${pg.database}`,
    });
    try {
      const err = await wrong.get('x').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      assert.equal(err?.name, 'StatePersistenceError');
      assert.equal(
        err?.message,
        `Cannot read state 'x' in PostgreSQL 'postgresql://${pg.user}:***@127.0.0.1:${pg.port}/${pg.database}': ` +
          `password authentication failed for user "${pg.user}"; check that the server is reachable and the user may create and write tables.`,
      );
    } finally {
      await wrong.close();
    }
  });

  it('redacts passwords from URIs', () => {
    assert.equal(redactUri('postgres://u:s3cr%40t@h:5432/db'), 'postgres://u:***@h:5432/db');
    assert.equal(redactUri('postgresql://h/db'), 'postgresql://h/db');
  });
});
