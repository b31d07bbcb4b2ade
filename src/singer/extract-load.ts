/**
 * Runs one extract-load block (extractor [mappers...] loader) the way `meltano run` does, on the worker or in
 * `floe run`: resolve config per plugin, prepare the catalog, read state, take the state ID's run lease, relay
 * tap -> mappers -> target, persist every state line the target emits, clean up. Config files live in a run
 * directory of their own (two runs of one plugin never share a file) and are removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Project, PluginDef } from '../config/project';
import { findPlugin } from '../config/project';
import { resolvePluginConfig, writeConfigFile } from '../config/settings';
import { resolveExecutable } from '../plugins/executable';
import { pluginEnv } from '../plugins/executable';
import { venvDir } from '../plugins/paths';
import { UserError } from '../shared/errors';
import type { RunFlags, StreamCounts } from '../shared/pipeline';
import { mergedState, stateFlagFor } from '../state/merge';
import { StateIdBusyError } from '../state/store';
import type { Lease, StateStore } from '../state/store';
import { prepareCatalog } from './catalog-prepare';
import { runRelay } from './relay';
import { maxLineBytesFromBufferSize } from './relay-types';
import type { RelayLogEntry, RelayPlugin, RelayProgress, RelayResult } from './relay-types';

export interface ExtractLoadRequest {
  project: Project;
  /** Block arguments: extractor, mapper or mapping names, loader. */
  args: string[];
  stateId: string;
  environment?: string;
  flags?: RunFlags;
  /** Schedule env (applied to every plugin) and trigger-time env. */
  scheduleEnv?: Record<string, string>;
  extraEnv?: Record<string, string>;
  stateStore: StateStore;
  /** Identifies this run in the state ID's lease (workflow/run/activity IDs, or a local run ID). */
  leaseOwner: string;
  signal?: AbortSignal;
  onLog?: (entry: RelayLogEntry) => void;
  onProgress?: (progress: RelayProgress & { statesPersisted: number }) => void;
  progressIntervalMs?: number;
  /** Process environment the plugins start from (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
}

export interface ExtractLoadResult {
  status: RelayResult['status'];
  message?: string;
  reason?: RelayResult['reason'];
  stateId: string;
  streams: Record<string, StreamCounts>;
  records: number;
  bytes: number;
  statesPersisted: number;
  exitCodes: RelayResult['exitCodes'];
  durationMs: number;
}

/** Lease ttl: renewed every few seconds while the block runs; a dead run frees its state ID after this. */
export const RUN_LEASE_TTL_MS = 60_000;

interface ResolvedPlugin {
  def: PluginDef;
  mapping?: string;
}

function resolveBlockPlugins(project: Project, args: string[]): ResolvedPlugin[] {
  return args.map((name) => {
    const direct = findPlugin(project, name);
    if (direct) return { def: direct };
    const mapper = project.plugins.find(
      (p) =>
        p.type === 'mappers' &&
        ((p.extras.mappings as { name: string }[] | undefined) ?? []).some((m) => m.name === name),
    );
    if (mapper) return { def: mapper, mapping: name };
    throw new UserError(`Block '${args.join(' ')}' names '${name}', which is not a plugin or mapping in meltano.yml.`);
  });
}

/**
 * Runs the block to completion (or failure/cancellation) and reports counts.
 * @throws PluginNotInstalledError, ConfigError/UserError (config), StateIdBusyError (another run holds the
 *   state ID, or took its lease during this run, which then stops its plugins), StatePersistenceError; plugin failures are returned as status 'failed', not thrown.
 */
export async function runExtractLoad(req: ExtractLoadRequest): Promise<ExtractLoadResult> {
  const { project, flags = {} } = req;
  const plugins = resolveBlockPlugins(project, req.args);
  const baseEnv = req.baseEnv ?? process.env;
  const runDir = path.join(project.root, '.meltano', 'run', 'floe', `${Date.now()}-${randomUUID().slice(0, 8)}`);
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const updateState = !flags.noStateUpdate;
  let lease: Lease | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let statesPersisted = 0;
  // Set when a renewal finds the lease taken (`--force`, or it went stale and another run took it): from then on
  // this run may not write state, since two writers of one state ID would interleave their bookmarks.
  let leaseLost: StateIdBusyError | undefined;
  const leaseAbort = new AbortController();
  try {
    const executables = await Promise.all(
      plugins.map((p) => resolveExecutable({ ...p.def, name: p.def.venvName }, project.root, baseEnv)),
    );
    if (updateState) {
      lease = await req.stateStore.acquireRunLease(req.stateId, {
        owner: req.leaseOwner,
        ttlMs: RUN_LEASE_TTL_MS,
        force: flags.force,
      });
      const held = lease;
      renewTimer = setInterval(() => {
        held.renew().catch((err: unknown) => {
          if (err instanceof StateIdBusyError) {
            leaseLost ??= err;
            leaseAbort.abort(err);
            return;
          }
          // A transient store error: the lease stays ours until its ttl, so keep going and retry next time.
          req.onLog?.({ plugin: 'floe', stream: 'relay', level: 'warn', line: `lease renewal failed: ${String(err)}` });
        });
      }, RUN_LEASE_TTL_MS / 4);
    }
    const relayPlugins: RelayPlugin[] = [];
    for (const [i, p] of plugins.entries()) {
      const resolved = resolvePluginConfig(project, p.def, {
        environment: req.environment,
        env: baseEnv,
        scheduleEnv: req.scheduleEnv,
        extraEnv: req.extraEnv,
      });
      let config = resolved.config;
      if (p.mapping) {
        const mapping = ((p.def.extras.mappings as { name: string; config?: Record<string, unknown> }[]) ?? []).find(
          (m) => m.name === p.mapping,
        );
        config = { ...config, ...(mapping?.config ?? {}) };
      }
      const role = i === 0 ? 'tap' : i === plugins.length - 1 ? 'target' : 'mapper';
      const configFile = writeConfigFile(runDir, `${role}-${i}.config.json`, config);
      const args = ['--config', configFile];
      const env = pluginEnv(venvDir(project.root, p.def.type, p.def.venvName), { ...baseEnv, ...resolved.env });
      if (role === 'tap') {
        const catalog = await prepareCatalog({
          project,
          plugin: p.def,
          executable: executables[i] as string,
          configFile,
          config: resolved.flatConfig,
          extras: resolved.extras,
          env,
          runDir,
          refresh: !!(flags.refreshCatalog || flags.fullRefresh),
        });
        if (catalog) args.push(catalog.flag, catalog.file);
        const stateArg = await stateArgument(req, p.def, resolved.extras, runDir);
        if (stateArg) args.push('--state', stateArg);
      }
      relayPlugins.push({
        name: p.mapping ?? p.def.name,
        role,
        command: executables[i] as string,
        args,
        env,
        cwd: project.root,
      });
    }
    const flag = stateFlagFor({ strategy: flags.stateStrategy ?? 'auto', fullRefresh: !!flags.fullRefresh });
    const result = await runRelay({
      plugins: relayPlugins,
      maxLineBytes: maxLineBytesFromBufferSize(project.eltBufferSize),
      signal: req.signal ? AbortSignal.any([req.signal, leaseAbort.signal]) : leaseAbort.signal,
      onLog: req.onLog,
      progressIntervalMs: req.progressIntervalMs,
      onProgress: (p) => req.onProgress?.({ ...p, statesPersisted }),
      onState: updateState
        ? async (value) => {
            if (leaseLost) throw leaseLost;
            await req.stateStore.update(req.stateId, value, flag);
            statesPersisted++;
          }
        : undefined,
    });
    if (leaseLost) throw leaseLost;
    return {
      status: result.status,
      message: result.message,
      reason: result.reason,
      stateId: req.stateId,
      streams: result.streams,
      records: result.totals.records,
      bytes: result.totals.bytes,
      statesPersisted,
      exitCodes: result.exitCodes,
      durationMs: result.durationMs,
    };
  } finally {
    if (renewTimer) clearInterval(renewTimer);
    await lease?.release().catch(() => undefined);
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/** The `--state` file for the tap, as Meltano's `look_up_state` (meltano.md §5.4); undefined for none. */
async function stateArgument(
  req: ExtractLoadRequest,
  tap: PluginDef,
  extras: Record<string, unknown>,
  runDir: string,
): Promise<string | undefined> {
  const flags = req.flags ?? {};
  if (!tap.capabilities.includes('state')) return undefined;
  if (typeof extras.state === 'string' && extras.state !== '') return path.resolve(req.project.root, extras.state);
  if (flags.fullRefresh || flags.noStateUpdate) return undefined;
  const record = await req.stateStore.get(req.stateId);
  if (!record) return undefined;
  const singer = mergedState(record).singer_state;
  if (singer === undefined || singer === null) return undefined;
  const file = path.join(runDir, 'state.json');
  fs.writeFileSync(file, JSON.stringify(singer), { mode: 0o600 });
  return file;
}
