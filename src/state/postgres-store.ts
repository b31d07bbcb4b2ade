/**
 * The PostgreSQL backend (`state_backend.uri: postgresql://...`) for many workers on many machines. Meltano's
 * own `systemdb` table is not reused: its row is deleted and re-inserted per write with a no-op lock
 * (meltano.md §5.5), and it has no run guard that works across machines (meltano#9947).
 *
 *   floe_state(state_id PK, completed jsonb, partial jsonb, updated_at)
 *   floe_run_lease(state_id PK, owner, token, acquired_at, expires_at)
 *
 * `update` is one transaction holding the row lock (`SELECT ... FOR UPDATE`); leases are taken with one
 * conditional upsert and expire on the server's clock, so clock skew between workers does not matter.
 */
import { randomBytes } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { applyStateWrite, isJsonObject, type JsonObject, type StateFlag } from './merge';
import { assertStorableStateId } from './state-id';
import {
  globToRegExp,
  lostLeaseError,
  singerPayload,
  StateIdBusyError,
  StatePersistenceError,
  type Lease,
  type LeaseInfo,
  type LeaseOptions,
  type StateRecord,
  type StateStore,
} from './store';

export interface PostgresStateStoreOptions {
  /** `postgresql://user:password@host:port/db`; the password never appears in labels or errors. */
  uri: string;
  /** Pool size per process (default 4): writes are short transactions. */
  maxConnections?: number;
}

// Any constant works: it only serialises concurrent `CREATE TABLE IF NOT EXISTS` from workers starting together.
const SCHEMA_LOCK_KEY = 4_237_001;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS floe_state (
  state_id text PRIMARY KEY,
  completed jsonb NOT NULL DEFAULT '{}'::jsonb,
  partial jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS floe_run_lease (
  state_id text PRIMARY KEY,
  owner text NOT NULL,
  token text NOT NULL,
  acquired_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);`;

interface LeaseRow {
  owner: string;
  acquired_at: Date;
  expires_at: Date;
}

/** `postgresql://user:***@host:port/db`: the URI without its password, for messages. Never throws. */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return uri.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

export class PostgresStateStore implements StateStore {
  readonly label: string;
  private readonly pool: Pool;
  private schema: Promise<void> | undefined;

  constructor(options: PostgresStateStoreOptions) {
    this.label = redactUri(options.uri);
    this.pool = new Pool({ connectionString: options.uri, max: options.maxConnections ?? 4 });
    // An idle client losing its connection must not crash the worker; the next query reports the problem.
    this.pool.on('error', () => undefined);
  }

  async get(stateId: string): Promise<StateRecord | undefined> {
    assertStorableStateId(stateId);
    const { rows } = await this.query<{ completed: unknown; partial: unknown }>(
      'read',
      stateId,
      'SELECT completed, partial FROM floe_state WHERE state_id = $1',
      [stateId],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async set(stateId: string, record: StateRecord): Promise<void> {
    assertStorableStateId(stateId);
    await this.query('write', stateId, UPSERT_SQL, [
      stateId,
      JSON.stringify(record.completed),
      JSON.stringify(record.partial),
    ]);
  }

  async update(stateId: string, singerState: unknown, flag: StateFlag): Promise<StateRecord> {
    assertStorableStateId(stateId);
    if (flag === 'complete') {
      const record = applyStateWrite(undefined, singerPayload(singerState), 'complete');
      await this.set(stateId, record);
      return record;
    }
    return this.transaction('write', stateId, async (client) => {
      // The empty row gives FOR UPDATE something to lock when the state ID is new.
      await client.query('INSERT INTO floe_state (state_id) VALUES ($1) ON CONFLICT (state_id) DO NOTHING', [stateId]);
      const { rows } = await client.query<{ completed: unknown; partial: unknown }>(
        'SELECT completed, partial FROM floe_state WHERE state_id = $1 FOR UPDATE',
        [stateId],
      );
      const next = applyStateWrite(rows[0] && toRecord(rows[0]), singerPayload(singerState), 'partial');
      await client.query(UPSERT_SQL, [stateId, JSON.stringify(next.completed), JSON.stringify(next.partial)]);
      return next;
    });
  }

  async clear(stateId: string): Promise<boolean> {
    assertStorableStateId(stateId);
    const { rowCount } = await this.query('delete', stateId, 'DELETE FROM floe_state WHERE state_id = $1', [stateId]);
    return (rowCount ?? 0) > 0;
  }

  async list(pattern?: string): Promise<string[]> {
    const matcher = pattern === undefined ? undefined : globToRegExp(pattern);
    const { rows } = await this.query<{ state_id: string }>('list', '*', 'SELECT state_id FROM floe_state', []);
    return rows
      .map((r) => r.state_id)
      .filter((id) => !matcher || matcher.test(id))
      .sort();
  }

  async acquireRunLease(stateId: string, options: LeaseOptions): Promise<Lease> {
    assertStorableStateId(stateId);
    const token = randomBytes(12).toString('hex');
    // The same owner re-acquiring is a retried attempt of the same run (e.g. after a worker crash).
    const { rows } = await this.query(
      'take the run lease of',
      stateId,
      `INSERT INTO floe_run_lease (state_id, owner, token, acquired_at, expires_at)
       VALUES ($1, $2, $3, now(), now() + $4 * interval '1 millisecond')
       ON CONFLICT (state_id) DO UPDATE
         SET owner = EXCLUDED.owner, token = EXCLUDED.token,
             acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
         WHERE floe_run_lease.expires_at < now() OR floe_run_lease.owner = EXCLUDED.owner OR $5::boolean
       RETURNING token`,
      [stateId, options.owner, token, options.ttlMs, options.force === true],
    );
    if (rows.length === 0) {
      const holder = await this.describeRunLease(stateId);
      // The holder may have released between the two statements: report it as it was a moment ago.
      throw new StateIdBusyError(
        stateId,
        holder ?? { owner: '(released)', acquiredAt: new Date(), expiresAt: new Date() },
      );
    }
    return {
      stateId,
      owner: options.owner,
      renew: async () => {
        const renewed = await this.query(
          'renew the run lease of',
          stateId,
          `UPDATE floe_run_lease SET expires_at = now() + $3 * interval '1 millisecond'
           WHERE state_id = $1 AND token = $2`,
          [stateId, token, options.ttlMs],
        );
        if (renewed.rowCount === 0) throw lostLeaseError(stateId, options.owner, await this.describeRunLease(stateId));
      },
      release: async () => {
        await this.query(
          'release the run lease of',
          stateId,
          'DELETE FROM floe_run_lease WHERE state_id = $1 AND token = $2',
          [stateId, token],
        );
      },
    };
  }

  async describeRunLease(stateId: string): Promise<LeaseInfo | undefined> {
    const { rows } = await this.query<LeaseRow>(
      'read the run lease of',
      stateId,
      'SELECT owner, acquired_at, expires_at FROM floe_run_lease WHERE state_id = $1',
      [stateId],
    );
    const row = rows[0];
    return row && { owner: row.owner, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private ensureSchema(): Promise<void> {
    this.schema ??= this.transactionRaw(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
      await client.query(SCHEMA_SQL);
    }).catch((err: unknown) => {
      this.schema = undefined;
      throw err;
    });
    return this.schema;
  }

  private async query<R extends object = Record<string, unknown>>(
    verb: string,
    stateId: string,
    sql: string,
    params: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }> {
    try {
      await this.ensureSchema();
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.persistenceError(verb, stateId, err);
    }
  }

  private async transaction<T>(verb: string, stateId: string, body: (client: PoolClient) => Promise<T>): Promise<T> {
    try {
      await this.ensureSchema();
      return await this.transactionRaw(body);
    } catch (err) {
      throw this.persistenceError(verb, stateId, err);
    }
  }

  private async transactionRaw<T>(body: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private persistenceError(verb: string, stateId: string, err: unknown): StatePersistenceError {
    if (err instanceof StatePersistenceError) return err;
    const why = err instanceof Error ? err.message : String(err);
    const what = stateId === '*' ? 'state IDs' : `state '${stateId}'`;
    return new StatePersistenceError(
      `Cannot ${verb} ${what} in PostgreSQL '${this.label}': ${why}; check that the server is reachable and the user may create and write tables.`,
    );
  }
}

const UPSERT_SQL = `INSERT INTO floe_state (state_id, completed, partial, updated_at)
  VALUES ($1, $2::jsonb, $3::jsonb, now())
  ON CONFLICT (state_id) DO UPDATE
    SET completed = EXCLUDED.completed, partial = EXCLUDED.partial, updated_at = EXCLUDED.updated_at`;

function toRecord(row: { completed: unknown; partial: unknown }): StateRecord {
  const asObject = (v: unknown): JsonObject => (isJsonObject(v) ? v : {});
  return { completed: asObject(row.completed), partial: asObject(row.partial) };
}
