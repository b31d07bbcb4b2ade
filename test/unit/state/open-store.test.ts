import assert from 'node:assert/strict';
import { LocalStateStore } from '../../../src/state/local-store';
import { openStateStore } from '../../../src/state/open-store';
import { PostgresStateStore } from '../../../src/state/postgres-store';

describe('state/open-store', () => {
  const projectRoot = '/srv/project';

  it('uses <project>/.meltano/state when no backend is configured', () => {
    const { store, note } = openStateStore({ projectRoot });
    assert.ok(store instanceof LocalStateStore);
    assert.equal(store.label, 'file:///srv/project/.meltano/state');
    assert.equal(note, undefined);
  });

  it('explains that systemdb becomes local files', () => {
    const { store, note } = openStateStore({ projectRoot, uri: 'systemdb' });
    assert.equal(store.label, 'file:///srv/project/.meltano/state');
    assert.equal(
      note,
      "state_backend.uri 'systemdb' keeps Meltano's state in its system database, which floe does not read; floe stores state in '/srv/project/.meltano/state' (file:// layout). To carry existing state over run 'meltano state export' and 'floe state import'.",
    );
  });

  it('opens a file:// root', () => {
    assert.equal(
      openStateStore({ projectRoot, uri: 'file:///var/lib/floe%20state' }).store.label,
      'file:///var/lib/floe state',
    );
  });

  it('rejects a file URI with a host', () => {
    assert.throws(() => openStateStore({ projectRoot, uri: 'file://relative/dir' }), {
      name: 'UserError',
      message:
        'meltano.yml: state_backend.uri \'file://relative/dir\' is not a local file URI (File URL host must be "localhost" or empty on linux); use file:///absolute/path (three slashes).',
    });
  });

  for (const uri of ['postgresql://u:secret@db:5432/floe', 'postgres://u:secret@db/floe']) {
    it(`opens PostgreSQL for ${uri.split(':')[0]}:// without showing the password`, async () => {
      const { store } = openStateStore({ projectRoot, uri });
      assert.ok(store instanceof PostgresStateStore);
      assert.equal(store.label.includes('secret'), false);
      await store.close();
    });
  }

  for (const uri of ['s3://key:secret@bucket/prefix', 'gs://bucket/prefix', 'azure://container/prefix']) {
    it(`rejects ${uri.split(':')[0]}:// naming what is supported`, () => {
      const scheme = uri.split(':')[0];
      assert.throws(() => openStateStore({ projectRoot, uri }), {
        name: 'UserError',
        message: `meltano.yml: state_backend.uri '${scheme}://' is not supported by floe; use systemdb (local files under .meltano/state), file:///absolute/path, or postgresql://user:password@host:port/database.`,
      });
    });
  }
});
