/**
 * Connecting to the Temporal server floe talks to, configured the way the `temporal` CLI is: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and the CLI's TOML config file
 * (TEMPORAL_CONFIG_FILE), all read by @temporalio/envconfig so floe and the CLI agree.
 */
import { Client, Connection } from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

import { RuntimeError, UserError } from '../shared/errors';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/**
 * `Connection.connect` that closes the connection when the server does not answer: the SDK's own `connect` leaves
 * the gRPC channel open on failure, which keeps the Node process alive. Throws what `ensureConnected` throws.
 */
export async function connectOrClose(options: ConnectionOptions): Promise<Connection> {
  const connection = Connection.lazy(options);
  try {
    await connection.ensureConnected();
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}

export interface ConnectFromEnvOptions {
  /** Environment to read; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** How long to try reaching the server. Default 10 s (the SDK default). */
  connectTimeoutMs?: number;
}

/**
 * The connection settings the environment names (as connectFromEnv reads them), for a worker's
 * NativeConnection: address, TLS, API key and gRPC metadata.
 * @throws UserError when the Temporal config (file or TLS files) cannot be read.
 */
export function connectionSettingsFromEnv(env: Record<string, string | undefined> = process.env): {
  address: string;
  namespace: string;
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  const definedEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) definedEnv[k] = v;
  let config: ReturnType<typeof loadClientConnectConfig>;
  try {
    config = loadClientConnectConfig({ overrideEnvVars: definedEnv });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new UserError(
      `The Temporal client configuration could not be loaded: ${reason.replace(/\.$/, '')}. ` +
        'Fix TEMPORAL_CONFIG_FILE / TEMPORAL_TLS_* or the temporal.toml profile.',
    );
  }
  const { apiKey, tls, metadata } = config.connectionOptions;
  return {
    address: config.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: config.namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
    ...(tls !== undefined ? { tls } : {}),
    ...(typeof apiKey === 'string' ? { apiKey } : {}),
    ...(metadata ? { metadata: metadata as Record<string, string> } : {}),
  };
}

export interface TemporalConnection {
  connection: Connection;
  client: Client;
  namespace: string;
  address: string;
}

/**
 * Connects a client to the server named by the environment (default `localhost:7233`, namespace `default`).
 * The caller owns `connection` and must `close()` it.
 * Throws `UserError` when the Temporal config (file or TLS files) cannot be read, and `RuntimeError` when the
 * server does not answer within the timeout.
 */
export async function connectFromEnv(opts: ConnectFromEnvOptions = {}): Promise<TemporalConnection> {
  const { address, namespace, apiKey, tls, metadata } = connectionSettingsFromEnv(opts.env ?? process.env);

  let connection: Connection;
  try {
    connection = await connectOrClose({
      address,
      apiKey,
      tls,
      metadata,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new RuntimeError(
      `Temporal server at ${address} is not reachable: ${reason.replace(/\.$/, '')}. ` +
        'Start one with `npm start` or set TEMPORAL_ADDRESS.',
    );
  }
  return { connection, client: new Client({ connection, namespace }), namespace, address };
}
