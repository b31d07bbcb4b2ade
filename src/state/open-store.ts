/**
 * Chooses the state backend from `state_backend.uri` (meltano.md §5.5):
 * - unset or `systemdb`: Meltano keeps state in its system database (`.meltano/meltano.db`), which floe does not
 *   read; floe uses the `file://` layout under `<project>/.meltano/state` instead and says so in `note`.
 *   Meltano's `file://` backend has no default root of its own (it uses the URI's path as given); this one sits
 *   in Meltano's system directory `.meltano/`, which Meltano projects already keep out of git.
 * - `file:///abs/path`: the same layout at that root, so an existing Meltano `file://` directory is shared as is.
 * - `postgresql://` / `postgres://`: the PostgreSQL backend, for many workers on many machines.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDotenv } from '../config/dotenv';
import { expandString } from '../config/env-vars';
import { UserError } from '../shared/errors';
import { LocalStateStore } from './local-store';
import { PostgresStateStore, redactUri } from './postgres-store';
import type { StateStore } from './store';

export interface OpenStateStoreOptions {
  /** `state_backend.uri` from meltano.yml as written (`$VAR` not yet expanded), or undefined. */
  uri?: string | undefined;
  /** Environment for `MELTANO_STATE_BACKEND_URI` and `$VAR` expansion (see resolveStateBackendUri); default process.env. */
  env?: Record<string, string | undefined>;
  /** Absolute path of the directory holding meltano.yml. */
  projectRoot: string;
  /** `state_backend.lock_timeout_seconds` (Meltano default 10). */
  lockTimeoutSeconds?: number | undefined;
}

export interface OpenedStateStore {
  store: StateStore;
  /** Something the user should know about the choice (printed once), e.g. why `systemdb` became local files. */
  note?: string;
}

/** The default local root: `<project>/.meltano/state`. Never throws. */
export function defaultStateRoot(projectRoot: string): string {
  return path.join(projectRoot, '.meltano', 'state');
}

/**
 * Opens the backend `uri` names (after resolveStateBackendUri). Connections are made lazily, on first use.
 * @throws UserError for an unsupported scheme, a `file://` URI that is not an absolute local path, or a URI
 * referencing an unset variable.
 */
export function openStateStore(options: OpenStateStoreOptions): OpenedStateStore {
  const uri = resolveStateBackendUri(options.uri, options.projectRoot, options.env ?? process.env)?.trim();
  const lockTimeoutSeconds = options.lockTimeoutSeconds;
  if (!uri || uri === 'systemdb') {
    const root = defaultStateRoot(options.projectRoot);
    const note = uri
      ? `state_backend.uri 'systemdb' keeps Meltano's state in its system database, which floe does not read; floe stores state in '${root}' (file:// layout). To carry existing state over run 'meltano state export' and 'floe state import'.`
      : undefined;
    const store = new LocalStateStore({ root, lockTimeoutSeconds });
    return note === undefined ? { store } : { store, note };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    return { store: new LocalStateStore({ root: fileRoot(uri), lockTimeoutSeconds }) };
  }
  if (scheme === 'postgresql' || scheme === 'postgres') {
    return { store: new PostgresStateStore({ uri }) };
  }
  const shown = scheme === undefined ? redactUri(uri) : `${scheme}://`;
  throw new UserError(
    `meltano.yml: state_backend.uri '${shown}' is not supported by floe; use systemdb (local files under .meltano/state), file:///absolute/path, or postgresql://user:password@host:port/database.`,
  );
}

/**
 * The `state_backend.uri` in effect, resolved as Meltano resolves that project setting: the variable
 * `MELTANO_STATE_BACKEND_URI` (process environment, then the project's `.env`) wins over meltano.yml, and
 * `$VAR` / `${VAR}` in the value are expanded against the process environment and the project's `.env` (the
 * process wins). This keeps passwords out of meltano.yml: `postgresql://floe:${FLOE_STATE_PASSWORD}@db/floe_state`.
 * Unlike Meltano, which expands an unset variable to the empty string, an unset variable is an error here: an
 * empty password or host would only fail later with a less helpful connection error.
 * @throws UserError naming (never showing) the variables the URI references that are not set.
 * @throws Error (from fs) when the project's `.env` exists but cannot be read.
 */
export function resolveStateBackendUri(
  uri: string | undefined,
  projectRoot: string,
  env: Record<string, string | undefined>,
): string | undefined {
  const dotenv = readDotenv(projectRoot, env);
  const merged: Record<string, string | undefined> = { ...dotenv, ...env };
  const override = merged.MELTANO_STATE_BACKEND_URI;
  const fromEnv = override !== undefined && override !== '';
  const value = fromEnv ? override : uri;
  if (value === undefined) return undefined;
  const missing: string[] = [];
  const lookup = new Proxy(merged, {
    get(target, name: string) {
      const v = target[name];
      if (v === undefined && !missing.includes(name)) missing.push(name);
      return v;
    },
  });
  const expanded = expandString(value, lookup);
  if (missing.length > 0) {
    const where = fromEnv ? 'MELTANO_STATE_BACKEND_URI' : 'meltano.yml: state_backend.uri';
    const names = missing.map((n) => `$${n}`).join(', ');
    throw new UserError(
      `${where} references ${names}, which ${missing.length === 1 ? 'is' : 'are'} not set; set ${missing.length === 1 ? 'it' : 'them'} in the worker's environment or the project's .env.`,
    );
  }
  return expanded;
}

function fileRoot(uri: string): string {
  let root: string;
  try {
    root = fileURLToPath(uri);
  } catch (err) {
    throw new UserError(
      `meltano.yml: state_backend.uri '${uri}' is not a local file URI (${(err as Error).message}); use file:///absolute/path (three slashes).`,
    );
  }
  if (!path.isAbsolute(root)) {
    throw new UserError(
      `meltano.yml: state_backend.uri '${uri}' must name an absolute path; use file:///absolute/path.`,
    );
  }
  return root;
}
