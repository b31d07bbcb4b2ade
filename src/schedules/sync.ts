/**
 * Reconciling the Temporal server with meltano.yml: create missing schedules, update changed ones, delete the
 * floe-managed schedules the file no longer has. Only schedules whose (create-only) memo says
 * `managedBy: floe` and this project's key are ever touched; an unchanged file is a no-op because each
 * schedule's action memo carries the hash of the config it was made from (the server returns compiled specs,
 * so specs cannot be compared).
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { Client, ScheduleUpdateOptions } from '@temporalio/client';
import type { Project } from '../config/project';
import { MANAGED_BY, compileSchedule } from './compile';
import { ensureSearchAttributes } from '../server/search-attributes';
import { FloeConfigHash } from '../shared/search-attributes';
import type { CompileOptions, CompiledSchedule } from './compile';
import type { SyncResult } from './sync-report';

export { projectKeyOf, syncReportLines } from './sync-report';
export type { SyncResult } from './sync-report';

export interface SyncOptions extends CompileOptions {
  /** Parallel requests to the server (default 16). */
  concurrency?: number;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

function updateFrom(want: CompiledSchedule, prev: { paused: boolean; note?: string }): ScheduleUpdateOptions {
  const o = want.options;
  const forced = o.state?.paused === true;
  // A pause made on the server keeps its note (why it was paused) along with the pause itself.
  const keepServerPause = !forced && prev.paused;
  return {
    spec: o.spec,
    action: o.action,
    policies: o.policies,
    typedSearchAttributes: o.typedSearchAttributes,
    state: keepServerPause ? { paused: true, note: prev.note } : { paused: forced, note: o.state?.note },
  };
}

/**
 * Creates or updates one schedule. `paused` set by hand on the server (`floe schedule pause`) survives an
 * update unless meltano.yml itself says `paused: true`.
 * @returns what happened.
 * @throws whatever the client throws for server errors (ServiceError) or an invalid spec (TypeError).
 */
export async function upsertSchedule(
  client: Client,
  want: CompiledSchedule,
  opts: { projectKey: string; knownToExist?: boolean },
): Promise<'created' | 'updated' | 'unchanged' | { conflict: string }> {
  if (!opts.knownToExist) {
    try {
      await client.schedule.create(want.options);
      return 'created';
    } catch (err) {
      // The schedule list lags behind creations: an "unknown" schedule may exist after all.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
  }
  const handle = client.schedule.getHandle(want.scheduleId);
  const current = await handle.describe();
  const owner = current.memo;
  if (owner?.managedBy !== MANAGED_BY || owner.project !== opts.projectKey) {
    const whose =
      owner?.managedBy === MANAGED_BY ? `floe project '${String(owner.project)}'` : 'something other than floe';
    return {
      conflict:
        `Schedule ID '${want.scheduleId}' already exists on the server and belongs to ${whose}, so floe left it alone; ` +
        `rename the schedule in meltano.yml, or give this project its own project_id (or FLOE_PROJECT_KEY) only if it is the same project.`,
    };
  }
  if ((current.action as { memo?: Record<string, unknown> }).memo?.configHash === want.configHash) return 'unchanged';
  await handle.update((prev) => updateFrom(want, prev.state));
  return 'updated';
}

/**
 * Brings the server in line with the project's schedules.
 * @throws the first server error met (the other requests already sent still complete).
 */
export async function syncSchedules(client: Client, project: Project, opts: SyncOptions): Promise<SyncResult> {
  // Schedules and their runs carry floe's search attributes: make sure the namespace has them.
  const registered = await ensureSearchAttributes(client.connection, client.options.namespace);
  const result: SyncResult = { created: [], updated: [], unchanged: [], deleted: [] };
  const desired = project.schedules.map((s) => compileSchedule(project, s, opts));
  const desiredIds = new Set(desired.map((d) => d.scheduleId));
  const managed: string[] = [];
  const existing = new Set<string>();
  /** Config hash of this project's listed schedules: equal hashes need no call at all. */
  const listedHash = new Map<string, string | undefined>();
  for await (const summary of client.schedule.list()) {
    existing.add(summary.scheduleId);
    const memo = summary.memo;
    if (memo?.managedBy === MANAGED_BY && memo.project === opts.projectKey) {
      managed.push(summary.scheduleId);
      listedHash.set(summary.scheduleId, summary.typedSearchAttributes?.get(FloeConfigHash));
    }
  }
  const concurrency = opts.concurrency ?? 16;
  const conflicts: NonNullable<SyncResult['conflicts']> = [];
  await pool(desired, concurrency, async (want) => {
    if (listedHash.get(want.scheduleId) === want.configHash) {
      result.unchanged.push(want.scheduleId);
      return;
    }
    // Listed schedules go straight to describe (no failed create first): half the calls of a no-op sync.
    const outcome = await upsertSchedule(client, want, {
      projectKey: opts.projectKey,
      knownToExist: existing.has(want.scheduleId),
    });
    if (typeof outcome === 'string') result[outcome].push(want.scheduleId);
    else conflicts.push({ scheduleId: want.scheduleId, message: outcome.conflict });
  });
  await pool(
    managed.filter((id) => !desiredIds.has(id)),
    concurrency,
    async (id) => {
      try {
        await client.schedule.getHandle(id).delete();
        result.deleted.push(id);
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
    },
  );
  for (const list of [result.created, result.updated, result.unchanged, result.deleted]) list.sort();
  if (registered.added.length > 0) result.registeredSearchAttributes = registered.added;
  if (registered.warning) result.warnings = [registered.warning];
  if (conflicts.length > 0) result.conflicts = conflicts.sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1));
  return result;
}
