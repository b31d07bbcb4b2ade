import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalStateStore } from '../../../src/state/local-store';
import { openStateStore, resolveStateBackendUri } from '../../../src/state/open-store';
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

  describe('resolveStateBackendUri', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-state-uri-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('expands $VAR and ${VAR} from the environment', () => {
      const env = { FLOE_STATE_PASSWORD: 's3cret', DB_HOST: 'postgresql' };
      assert.equal(
        resolveStateBackendUri('postgresql://floe:${FLOE_STATE_PASSWORD}@$DB_HOST:5432/floe_state', dir, env),
        'postgresql://floe:s3cret@postgresql:5432/floe_state',
      );
    });

    it("expands from the project's .env, the process environment winning", () => {
      fs.writeFileSync(path.join(dir, '.env'), 'FLOE_STATE_PASSWORD=from-dotenv\nDB_HOST=dotenv-host\n');
      assert.equal(
        resolveStateBackendUri('postgresql://floe:$FLOE_STATE_PASSWORD@$DB_HOST/floe_state', dir, {
          DB_HOST: 'env-host',
        }),
        'postgresql://floe:from-dotenv@env-host/floe_state',
      );
    });

    it('lets MELTANO_STATE_BACKEND_URI override meltano.yml, expanded too', () => {
      const env = { MELTANO_STATE_BACKEND_URI: 'postgresql://floe:${PW}@db/floe_state', PW: 'x' };
      assert.equal(resolveStateBackendUri('file:///var/floe', dir, env), 'postgresql://floe:x@db/floe_state');
      assert.equal(resolveStateBackendUri(undefined, dir, env), 'postgresql://floe:x@db/floe_state');
    });

    it('keeps an escaped \\$ literal and leaves a URI without variables unchanged', () => {
      assert.equal(resolveStateBackendUri('postgresql://u:p\\$X@db/s', dir, {}), 'postgresql://u:p$X@db/s');
      assert.equal(resolveStateBackendUri('systemdb', dir, {}), 'systemdb');
      assert.equal(resolveStateBackendUri(undefined, dir, {}), undefined);
    });

    it('rejects a URI referencing unset variables, naming them without values', () => {
      assert.throws(() => resolveStateBackendUri('postgresql://$PGU:${PGW}@db/${PGU}', dir, { OTHER: 'x' }), {
        name: 'UserError',
        message:
          "meltano.yml: state_backend.uri references $PGU, $PGW, which are not set; set them in the worker's environment or the project's .env.",
      });
      assert.throws(
        () => resolveStateBackendUri(undefined, dir, { MELTANO_STATE_BACKEND_URI: 'postgresql://db/$DBN' }),
        {
          name: 'UserError',
          message:
            "MELTANO_STATE_BACKEND_URI references $DBN, which is not set; set it in the worker's environment or the project's .env.",
        },
      );
    });

    it('opens the PostgreSQL backend from an expanded meltano.yml URI', async () => {
      const { store } = openStateStore({
        projectRoot: dir,
        uri: 'postgresql://floe:${FLOE_STATE_PASSWORD}@db:5432/floe_state',
        env: { FLOE_STATE_PASSWORD: 'hunter2' },
      });
      assert.ok(store instanceof PostgresStateStore);
      assert.equal(store.label, 'postgresql://floe:***@db:5432/floe_state');
      await store.close();
    });
  });
});
