/**
 * Registering floe's custom search attributes on the namespace when they are missing, so a worker or a sync
 * against a fresh self-hosted cluster works without a manual `temporal operator search-attribute create`.
 * The dev server floe starts registers them at start; Temporal Cloud manages them in its own console, so a
 * refusal is reported, not fatal.
 */
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { FLOE_SEARCH_ATTRIBUTE_KEYS } from '../shared/search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const TYPE_OF: Record<string, number> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export interface EnsureSearchAttributesResult {
  added: string[];
  /** Set when the server refused to list or add (e.g. no operator permission): what to do by hand. */
  warning?: string;
}

/**
 * Adds the floe search attributes the namespace lacks. Never throws for a refusal; returns a warning instead.
 */
export async function ensureSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
): Promise<EnsureSearchAttributesResult> {
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set([
      ...Object.keys(listed.customAttributes ?? {}),
      ...Object.keys(listed.systemAttributes ?? {}),
    ]);
    const missing = FLOE_SEARCH_ATTRIBUTE_KEYS.filter((k) => !known.has(k.name));
    if (missing.length === 0) return { added: [] };
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, TYPE_OF[k.type] as number])),
    });
    return { added: missing.map((k) => k.name) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const names = FLOE_SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).join(', ');
    return {
      added: [],
      warning: `Could not check or register floe's search attributes on namespace '${namespace}' (${reason}); create the Keyword attributes ${names} with 'temporal operator search-attribute create' or your cloud console.`,
    };
  }
}
