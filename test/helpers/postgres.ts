/**
 * A throwaway PostgreSQL 15 server for tests: initdb into a fresh temp dir with a password-authenticated user,
 * listening only on 127.0.0.1 at a free port, its unix socket inside the temp dir. One server per test file:
 *
 *   let pg: TestPostgres;
 *   before(async () => { pg = await startPostgres(); });
 *   after(async () => { await pg?.stop(); });
 *
 * initdb refuses to run as root, so as root every server command runs as the `postgres` system user, which
 * owns the temp dir.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);
const PG_BIN = process.env.FLOE_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const RUN_AS = 'postgres';

export interface TestPostgres {
  uri: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Stops the server (`pg_ctl stop -m fast`) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a server; throws with initdb/pg_ctl output and the server log when it cannot. */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-pg-'));
  const data = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  const logFile = path.join(dir, 'server.log');
  const user = 'floe';
  const password = randomBytes(12).toString('hex');
  const database = 'postgres';
  const asRoot = process.getuid?.() === 0;
  const pgCommand = (bin: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', RUN_AS, '--', path.join(PG_BIN, bin), ...args], { cwd: dir })
      : run(path.join(PG_BIN, bin), args, { cwd: dir });

  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await pgCommand('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']).catch(() => undefined);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await fs.mkdir(socketDir);
    const pwFile = path.join(dir, 'pwfile');
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (asRoot) {
      const { stdout } = await run('id', ['-u', RUN_AS]);
      const { stdout: gid } = await run('id', ['-g', RUN_AS]);
      const [uid, group] = [Number(stdout.trim()), Number(gid.trim())];
      for (const p of [dir, socketDir, pwFile]) await fs.chown(p, uid, group);
    }
    await pgCommand('initdb', [
      '-D',
      data,
      '-U',
      user,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-sync',
    ]);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !started; attempt++) {
      const port = await freePort();
      try {
        await pgCommand('pg_ctl', [
          'start',
          '-D',
          data,
          '-l',
          logFile,
          '-w',
          '-t',
          '60',
          '-o',
          `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`,
        ]);
        started = true;
        await waitConnectable({ host: '127.0.0.1', port, user, password, database });
        const uri = `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`;
        return { uri, host: '127.0.0.1', port, user, password, database, stop };
      } catch (err) {
        lastError = err; // most likely the port was taken between freePort() and start: try another
      }
    }
    throw lastError;
  } catch (err) {
    const log = await fs.readFile(logFile, 'utf8').catch(() => '');
    await stop();
    const out = err as { message?: string; stderr?: string };
    throw new Error(
      `Could not start PostgreSQL from ${PG_BIN}: ${out.message ?? String(err)}\n${out.stderr ?? ''}\n${log}`,
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitConnectable(config: {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new Client(config);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
