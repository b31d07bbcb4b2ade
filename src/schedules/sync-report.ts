/**
 * The light part of schedule sync: its result type, the project key and the report, usable without loading
 * the Temporal client (the CLI loads that only for commands that talk to the server).
 */
import type { Project } from '../config/project';

export interface SyncResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  /**
   * Only when there are some: schedule IDs meltano.yml wants that exist on the server but belong to another
   * project (or were not made by floe). floe leaves them alone and says why.
   */
  conflicts?: { scheduleId: string; message: string }[];
  /** Only when some were missing: floe search attributes added to the namespace. */
  registeredSearchAttributes?: string[];
  /** Only when there are some: problems that did not stop the sync. */
  warnings?: string[];
}

/** The project key used to tell projects sharing a namespace apart: `project_id`, or `FLOE_PROJECT_KEY`. */
export function projectKeyOf(project: Project, env: NodeJS.ProcessEnv = process.env): string {
  return env.FLOE_PROJECT_KEY ?? project.projectId ?? 'default';
}

/** Human-readable lines for a sync: the counts, then one line per conflict. Never throws. */
export function syncReportLines(result: SyncResult): string[] {
  return [
    `Schedules synced: ${result.created.length} created, ${result.updated.length} updated, ` +
      `${result.unchanged.length} unchanged, ${result.deleted.length} deleted` +
      (result.conflicts ? `, ${result.conflicts.length} left alone (conflicts below).` : '.'),
    ...(result.conflicts ?? []).map((c) => `  ${c.message}`),
    ...(result.registeredSearchAttributes
      ? [`Registered search attributes on the namespace: ${result.registeredSearchAttributes.join(', ')}.`]
      : []),
    ...(result.warnings ?? []),
  ];
}
