// A throw-away MariaDB server for integration tests: its own datadir under os.tmpdir(), loopback only, a free
// port, a socket inside the temp dir, a real password-protected user for the tap, optional ROW binlog for
// LOG_BASED replication. Uses Debian's mariadb-server binaries (`apt-get install -y mariadb-server`) and the
// `mariadb` client binary for queries, so it needs no npm driver.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';

export interface MariaDbOptions {
  /** Turn on the binary log in ROW format with full row images, as LOG_BASED replication needs. */
  binlog?: boolean;
  /** Database created for the tap user; the fixture seed.sql uses `floe_src`. */
  database?: string;
}

export type MariaDbRow = Record<string, string | null>;

export interface MariaDb {
  host: string;
  port: number;
  /** A password-protected user with the privileges tap-mysql needs (docs/mysql.md). */
  user: string;
  password: string;
  database: string;
  socket: string;
  /** The temp dir holding datadir, socket, pid file and error.log; removed by stop(). */
  dir: string;
  pid: number;
  /**
   * Runs SQL (several statements allowed) as root over the socket and returns the rows of the last result set
   * as text values (NULL as null). Throws MariaDbError when the client exits non-zero.
   */
  query(sql: string): Promise<MariaDbRow[]>;
  /**
   * Shuts the server down cleanly and starts it again on the same datadir and port (clients see their
   * connections drop, as on a real restart); `pid` changes. Throws MariaDbError when it does not come back.
   */
  restart(): Promise<void>;
  /** Shuts the server down (mariadb-admin shutdown, then SIGKILL) and removes the temp dir. Never throws. */
  stop(): Promise<void>;
}

export class MariaDbError extends Error {
  override name = 'MariaDbError';
}

const READY_TIMEOUT_MS = 30_000; // install + first start take ~3 s on 2 cores; leave room for a loaded CI box
const STOP_TIMEOUT_MS = 15_000; // a clean InnoDB shutdown of a small datadir takes well under a second
const PORT_ATTEMPTS = 3; // the free-port probe can race with another process grabbing the port
const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];

/** Starts a fresh MariaDB server; throws MariaDbError when the binaries are missing or it does not come up. */
export async function startMariaDb(opts: MariaDbOptions = {}): Promise<MariaDb> {
  const bin = {
    server: findBinary('mariadbd'),
    installDb: findBinary('mariadb-install-db'),
    client: findBinary('mariadb'),
    admin: findBinary('mariadb-admin'),
  };
  const dir = mkdtempSync(join(tmpdir(), 'floe-mariadb-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  // mariadbd refuses to run as root unless told to; as another user it runs as that user.
  const userArgs = process.getuid?.() === 0 ? ['--user=root'] : [];
  // --no-defaults keeps /etc/mysql/my.cnf (the packaged service's settings) out of the test server.
  const common = ['--no-defaults', `--datadir=${dataDir}`, '--innodb-log-file-size=8M', ...userArgs];
  try {
    await run(bin.installDb, [
      ...common,
      '--auth-root-authentication-method=normal', // root@localhost without password, reachable only via the socket
      '--skip-test-db',
      '--skip-name-resolve',
    ]);
    let server = await startServer(bin, common, dir, socket, opts.binlog === true);
    const root = ['--no-defaults', `--socket=${socket}`, '--user=root', '--default-character-set=utf8mb4'];
    const query = (sql: string): Promise<MariaDbRow[]> =>
      run(bin.client, [...root, '--xml'], sql).then((out) => parseXmlRows(out));
    const database = opts.database ?? 'floe_src';
    const user = 'floe_tap';
    const password = randomBytes(12).toString('hex');
    await query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;` +
        `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}';` +
        // SELECT is all FULL_TABLE/INCREMENTAL need; the rest is what LOG_BASED needs (docs/mysql.md).
        `GRANT SELECT, REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO '${user}'@'%';`,
    ).catch(async (err: unknown) => {
      await shutdown(server.child, bin.admin, socket);
      throw err;
    });
    let stopped: Promise<void> | undefined;
    const onExit = (): void => {
      // Last resort when the test process dies without calling stop(): no orphan server, no leftover dir.
      server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    return {
      host: '127.0.0.1',
      port: server.port,
      user,
      password,
      database,
      socket,
      dir,
      get pid() {
        return server.child.pid ?? -1;
      },
      query,
      restart: async () => {
        if (stopped) throw new MariaDbError(`MariaDB in ${dir} was stopped; it cannot be restarted.`);
        await shutdown(server.child, bin.admin, socket);
        server = await startServer(bin, common, dir, socket, opts.binlog === true, server.port);
      },
      stop: () => {
        stopped ??= shutdown(server.child, bin.admin, socket).then(() => {
          process.removeListener('exit', onExit);
          rmSync(dir, { recursive: true, force: true });
        });
        return stopped;
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Binaries {
  server: string;
  installDb: string;
  client: string;
  admin: string;
}

async function startServer(
  bin: Binaries,
  common: string[],
  dir: string,
  socket: string,
  binlog: boolean,
  fixedPort?: number,
): Promise<{ child: ChildProcess; port: number }> {
  const errorLog = join(dir, 'error.log');
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const args = [
      ...common,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--tmpdir=${dir}`,
      `--log-error=${errorLog}`,
      '--skip-name-resolve',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--default-time-zone=+00:00',
      ...(binlog
        ? [`--log-bin=${join(dir, 'binlog')}`, '--binlog-format=ROW', '--binlog-row-image=FULL', '--server-id=1']
        : []),
    ];
    const child = spawn(bin.server, args, { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      const ok = await run(bin.admin, ['--no-defaults', `--socket=${socket}`, '--user=root', 'ping'])
        .then(() => true)
        .catch(() => false);
      if (ok) return { child, port };
      await sleep(100);
    }
    const log = tail(errorLog);
    if (!exited) {
      await shutdown(child, bin.admin, socket);
      throw new MariaDbError(
        `MariaDB (${bin.server}) did not accept connections on port ${port} within ${READY_TIMEOUT_MS} ms; ` +
          `its error log ends with: ${log}`,
      );
    }
    // Another process took the port between the probe and the bind: try a new one.
    if (fixedPort === undefined && attempt < PORT_ATTEMPTS && /already in use|Can't start server: Bind/i.test(log))
      continue;
    throw new MariaDbError(
      `MariaDB (${bin.server}) exited during start-up on port ${port} with datadir ${join(dir, 'data')}; ` +
        `its error log ends with: ${log}`,
    );
  }
}

async function shutdown(child: ChildProcess, admin: string, socket: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await run(admin, ['--no-defaults', `--socket=${socket}`, '--user=root', 'shutdown']).catch(() => undefined);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function findBinary(name: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const d of dirs) {
    const candidate = join(d, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new MariaDbError(
    `MariaDB binary '${name}' was not found in PATH or ${SEARCH_DIRS.join(', ')}; ` +
      `install it with 'apt-get install -y mariadb-server'.`,
  );
}

function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        // With SQL on stdin the client echoes the failing statement between dashes; the ERROR line says it all.
        const lines = Buffer.concat(err).toString('utf8').trim().split('\n');
        const msg = lines.filter((l) => l.startsWith('ERROR ')).pop() ?? lines.join(' ');
        reject(new MariaDbError(`'${basename(cmd)}' exited with code ${String(code)}: ${msg}`));
      }
    });
    // A client may exit before reading stdin (ping, or a failing statement); its exit code and ERROR line
    // report that, so the resulting EPIPE on our side is not an error of its own.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

/** Parses `mariadb --xml` output; returns the rows of the last result set. */
export function parseXmlRows(xml: string): MariaDbRow[] {
  const sets = xml.split('<resultset ').slice(1);
  const last = sets[sets.length - 1];
  if (last === undefined) return [];
  const rows: MariaDbRow[] = [];
  for (const rowXml of last.split('<row>').slice(1)) {
    const row: MariaDbRow = {};
    const field = /<field name="([^"]*)"(?: xsi:nil="true" \/>|>([\s\S]*?)<\/field>)/g;
    for (let m = field.exec(rowXml); m !== null; m = field.exec(rowXml)) {
      row[unescapeXml(m[1] ?? '')] = m[2] === undefined ? null : unescapeXml(m[2]);
    }
    rows.push(row);
  }
  return rows;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
    if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return named[e.toLowerCase()] ?? _;
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no error log written)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
