import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseXmlRows, startMariaDb } from '../helpers/mariadb';
import type { MariaDb } from '../helpers/mariadb';

const SEED = join(__dirname, '..', 'fixtures', 'mysql', 'seed.sql');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the mariadb client over TCP as the tap user, the way tap-mysql connects. */
function tcpQuery(db: MariaDb, sql: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb', [
      '--no-defaults',
      '--protocol=TCP',
      `--host=${db.host}`,
      `--port=${db.port}`,
      `--user=${db.user}`,
      `--password=${db.password}`,
      '--batch',
      '--skip-column-names',
      '-e',
      sql,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

describe('test/helpers/mariadb', () => {
  describe('startMariaDb', () => {
    let db: MariaDb | undefined;

    afterEach(async () => {
      await db?.stop();
      db = undefined;
    });

    it('starts a server, loads the seed and returns its rows with NULLs and unicode intact', async () => {
      db = await startMariaDb();
      assert.equal(db.host, '127.0.0.1');
      assert.equal(db.database, 'floe_src');
      assert.ok(db.port > 0);
      await db.query(readFileSync(SEED, 'utf8'));

      const customers = await db.query(
        'SELECT id, name, email, balance, birth_date, notes, updated_at FROM floe_src.customers ORDER BY id',
      );
      assert.deepEqual(customers, [
        {
          id: '1',
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          balance: '1234.50',
          birth_date: '1815-12-10',
          notes: 'first programmer',
          updated_at: '2024-01-01 08:00:00',
        },
        {
          id: '2',
          name: 'Zoë Ünicode',
          email: 'zoe@example.com',
          balance: '-17.25',
          birth_date: '1990-02-28',
          notes: 'naïve café — 日本語 ✓',
          updated_at: '2024-01-02 09:30:00',
        },
        {
          id: '3',
          name: 'No Email',
          email: null,
          balance: '0.00',
          birth_date: null,
          notes: null,
          updated_at: '2024-01-03 10:00:00',
        },
        {
          id: '4',
          name: 'Big Balance',
          email: 'big@example.com',
          balance: '9999999999.99',
          birth_date: '2000-01-01',
          notes: '',
          updated_at: '2024-01-04 23:59:59',
        },
      ]);
      assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM floe_src.orders'), [{ n: '3' }]);
      assert.deepEqual(await db.query("SELECT name FROM floe_src.countries WHERE code = 'JP'"), [{ name: '日本' }]);
      assert.deepEqual(await db.query('SELECT @@log_bin AS log_bin'), [{ log_bin: '0' }]);
    });

    it('gives the tap user a working password over TCP and rejects a wrong one', async () => {
      db = await startMariaDb();
      await db.query(readFileSync(SEED, 'utf8'));
      const ok = await tcpQuery(db, 'SELECT COUNT(*) FROM floe_src.customers');
      assert.deepEqual(ok, { code: 0, out: '4\n', err: '' });
      const bad = await tcpQuery({ ...db, password: 'wrong' }, 'SELECT 1');
      assert.equal(bad.code, 1);
      assert.match(bad.err, /Access denied for user 'floe_tap'/);
    });

    it('turns on a ROW binlog with full row images when asked', async () => {
      db = await startMariaDb({ binlog: true });
      assert.deepEqual(
        await db.query('SELECT @@log_bin AS log_bin, @@binlog_format AS f, @@binlog_row_image AS i, @@server_id AS s'),
        [{ log_bin: '1', f: 'ROW', i: 'FULL', s: '1' }],
      );
      const status = await db.query('SHOW MASTER STATUS');
      assert.equal(status.length, 1);
      assert.match(status[0]?.['File'] ?? '', /^binlog\.\d{6}$/);
      // tap-mysql's LOG_BASED check runs SHOW MASTER STATUS as the tap user, not root.
      const asTap = await tcpQuery(db, 'SHOW MASTER STATUS');
      assert.equal(asTap.code, 0, asTap.err);
      assert.match(asTap.out, /^binlog\.\d{6}\t\d+/);
    });

    it('stops without leaving a process or the temp dir, and a second stop is a no-op', async () => {
      const started = await startMariaDb({ binlog: true });
      assert.ok(processAlive(started.pid));
      assert.ok(existsSync(started.socket));
      await started.stop();
      assert.equal(processAlive(started.pid), false);
      assert.equal(existsSync(started.dir), false);
      await started.stop();
    });

    it('rejects a failing statement with the client error', async () => {
      db = await startMariaDb();
      await assert.rejects(db.query('SELECT * FROM floe_src.missing'), (err: Error) => {
        assert.equal(err.name, 'MariaDbError');
        assert.equal(
          err.message,
          "'mariadb' exited with code 1: ERROR 1146 (42S02) at line 1: Table 'floe_src.missing' doesn't exist",
        );
        return true;
      });
    });
  });

  describe('parseXmlRows', () => {
    it('decodes entities, keeps the string NULL apart from SQL NULL and returns the last result set', () => {
      const xml = [
        '<?xml version="1.0"?>',
        '<resultset statement="select 1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        '  <row>\n\t<field name="a">1</field>\n  </row>',
        '</resultset>',
        '<resultset statement="select 2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        '  <row>',
        '\t<field name="b" xsi:nil="true" />',
        '\t<field name="c">x&lt;y&gt;&amp;&quot;\'z\ttab\nnl</field>',
        '\t<field name="d">NULL</field>',
        '\t<field name="e"></field>',
        '  </row>',
        '</resultset>',
      ].join('\n');
      assert.deepEqual(parseXmlRows(xml), [{ b: null, c: 'x<y>&"\'z\ttab\nnl', d: 'NULL', e: '' }]);
      assert.deepEqual(parseXmlRows(''), []);
    });
  });
});
