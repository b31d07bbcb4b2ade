/**
 * Applying Meltano's catalog rules to a discovered Singer catalog, listing the selection, and the catalog cache
 * key. Pure functions: discovery (spawning `tap --discover`) and file handling live elsewhere.
 *
 * The traversal copies Meltano's `CatalogExecutor` visitor (`plugin/singer/catalog.py`) on purpose, quirks
 * included, because taps see the result: nodes are recognised by their materialised path (`.streams[0]`,
 * `...schema.properties.<word chars>`, `...metadata[3]`), children of a property's `anyOf`/`type` are skipped,
 * and metadata entries created for properties are visited only when the stream's `metadata` key comes after
 * `schema` (a key-order effect in Meltano too).
 */
import crypto from 'node:crypto';
import { fnmatch, metadataRules, ruleMatches, schemaRules, selectFilterRules, selectRules } from './select-rules';
import type { MetadataRule, SchemaRule } from './select-rules';

type Node = Record<string, unknown>;
export interface Catalog {
  streams: Node[];
  [key: string]: unknown;
}

const STREAM_PATH = /streams\[\d+\]$/;
// Python's `\w` on str is Unicode letters, digits and underscore.
const PROPERTY_PATH = /schema(\.properties\.[\p{L}\p{N}_]*)+$/u;
const METADATA_PATH = /metadata\[\d+\]$/;

interface Executor {
  stream(node: Node, path: string): void;
  property(node: Node, path: string): void;
  metadata(node: Node, path: string): void;
}

function isObject(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function visit(node: unknown, ex: Executor, path = ''): void {
  if (Array.isArray(node)) {
    // Live length: entries appended while visiting are visited too, as Python's list iteration does.
    for (let i = 0; i < node.length; i++) visit(node[i], ex, `${path}[${i}]`);
    return;
  }
  if (!isObject(node)) return;
  let kind: 'stream' | 'property' | 'metadata' | undefined;
  if (STREAM_PATH.test(path)) kind = 'stream';
  if (PROPERTY_PATH.test(path)) kind = 'property';
  if (METADATA_PATH.test(path) && 'breadcrumb' in node) kind = 'metadata';
  if (kind) ex[kind](node, path);
  for (const key of Object.keys(node)) {
    if (kind === 'property' && (key === 'anyOf' || key === 'type')) continue;
    visit(node[key], ex, `${path}.${key}`);
  }
}

function breadcrumbOf(path: string): string[] {
  return path.slice(path.indexOf('properties')).split('.');
}

function sameBreadcrumb(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

class MetadataExecutor implements Executor {
  private current: Node | undefined;
  constructor(private readonly rules: MetadataRule[]) {}

  private ensure(breadcrumb: string[]): void {
    const list = (this.current as Node).metadata as Node[];
    if (list.some((m) => sameBreadcrumb(m.breadcrumb, breadcrumb))) return;
    // Streams and top-level properties become automatic, nested properties available (Meltano's choice).
    list.push({ breadcrumb, metadata: { inclusion: breadcrumb.length <= 2 ? 'automatic' : 'available' } });
  }

  private set(target: Node, key: string, value: unknown): void {
    if (key === 'selected' && value === true && target.inclusion === 'unsupported') return;
    target[key] = value;
  }

  stream(node: Node): void {
    this.current = node;
    if (!('metadata' in node)) node.metadata = [];
    this.ensure([]);
    const id = String(node.tap_stream_id);
    // Legacy catalogs (and SDK taps) read underscored keys on the stream object itself.
    for (const r of this.rules) if (ruleMatches(r, id, [])) this.set(node, r.key.replaceAll('-', '_'), r.value);
  }

  property(_node: Node, path: string): void {
    this.ensure(breadcrumbOf(path));
  }

  metadata(node: Node): void {
    const id = String((this.current as Node).tap_stream_id);
    const breadcrumb = (node.breadcrumb as unknown[]).map(String);
    for (const r of this.rules) {
      if (!ruleMatches(r, id, breadcrumb)) continue;
      if (!isObject(node.metadata)) node.metadata = {};
      this.set(node.metadata as Node, r.key, r.value);
    }
  }
}

class SchemaExecutor implements Executor {
  private current: Node | undefined;
  constructor(private readonly rules: SchemaRule[]) {}

  private ensureProperty(breadcrumb: string[]): void {
    let next = (this.current as Node).schema as Node;
    for (let idx = 0; idx < breadcrumb.length; idx++) {
      const key = breadcrumb[idx] as string;
      // Python's re.match anchors at the start only: a glob character at position 0 makes this a wildcard key.
      if (/^[*?[\]]/.test(key)) {
        const matching = Object.keys(next).filter((k) => fnmatch(k, key));
        for (const k of matching) {
          const copy = [...breadcrumb];
          copy[idx] = k;
          this.ensureProperty(copy);
        }
        break;
      }
      if (!(key in next)) next[key] = {};
      next = next[key] as Node;
    }
  }

  stream(node: Node): void {
    this.current = node;
    if (!('schema' in node)) node.schema = { type: 'object' };
    const id = String(node.tap_stream_id);
    for (const r of this.rules) if (ruleMatches({ ...r, negated: false }, id)) this.ensureProperty(r.breadcrumb);
  }

  property(node: Node, path: string): void {
    const id = String((this.current as Node).tap_stream_id);
    const breadcrumb = breadcrumbOf(path);
    for (const r of this.rules) {
      if (!ruleMatches({ ...r, negated: false }, id, breadcrumb)) continue;
      for (const k of Object.keys(node)) delete node[k];
      Object.assign(node, structuredClone(r.payload));
    }
  }

  metadata(): void {}
}

/** Warnings for rules naming a concrete stream or property the catalog lacks (Meltano's `warn_property_not_found`). */
export function ruleWarnings(rules: MetadataRule[], catalog: Catalog): string[] {
  const streams = new Map<unknown, Node>();
  for (const s of catalog.streams ?? []) if (isObject(s)) streams.set(s.tap_stream_id, s);
  const out = new Set<string>();
  for (const rule of rules) {
    if (Array.isArray(rule.tapStreamId) || rule.tapStreamId.includes('*')) continue;
    const stream = streams.get(rule.tapStreamId);
    if (!stream) {
      out.add(`Stream \`${rule.tapStreamId}\` was not found in the catalog`);
      continue;
    }
    const path: string[] = [];
    for (const p of rule.breadcrumb) {
      if (p.includes('*')) break;
      path.push(p);
    }
    if (path.length <= 1) continue;
    let cursor: unknown = isObject(stream.schema) ? stream.schema : {};
    for (const p of path) cursor = isObject(cursor) && p in cursor ? cursor[p] : {};
    const found = isObject(cursor) ? Object.keys(cursor).length > 0 : Boolean(cursor);
    if (!found) {
      out.add(
        `Property \`${rule.breadcrumb.slice(1).join('.')}\` was not found in the schema of stream \`${rule.tapStreamId}\``,
      );
    }
  }
  return [...out];
}

export interface CatalogRuleOptions {
  /** `select` extra (Meltano's default `["*.*"]`). */
  select?: readonly string[];
  metadata?: Record<string, unknown>;
  schema?: Record<string, unknown>;
  /** `select_filter` extra / `--select`, `--exclude`. */
  selectFilter?: readonly string[];
  /** The `catalog` extra names a user catalog: select, metadata and schema are then not applied. */
  customCatalog?: boolean;
}

export interface CatalogRuleResult {
  catalog: Catalog;
  warnings: string[];
}

/**
 * Applies the rules in Meltano's order (schema rules; then `!*.*`, select, metadata; then select_filter) to a
 * copy of `catalog`; the last matching rule wins.
 * @throws CatalogRuleError when the metadata or schema extra is malformed.
 */
export function applyCatalogRules(catalog: Catalog, opts: CatalogRuleOptions = {}): CatalogRuleResult {
  const out = structuredClone(catalog);
  const schema: SchemaRule[] = [];
  const meta: MetadataRule[] = [];
  if (!opts.customCatalog) {
    schema.push(...schemaRules(opts.schema));
    meta.push(...selectRules(['!*.*']), ...selectRules(opts.select ?? ['*.*']), ...metadataRules(opts.metadata));
  }
  meta.push(...selectFilterRules(opts.selectFilter ?? []));
  let warnings: string[] = [];
  if (schema.length > 0) visit(out, new SchemaExecutor(schema));
  if (meta.length > 0) {
    warnings = ruleWarnings(meta, out);
    visit(out, new MetadataExecutor(meta));
  }
  return { catalog: out, warnings };
}

export type Selection = 'SELECTED' | 'EXCLUDED' | 'AUTOMATIC' | 'UNSUPPORTED';

export interface StreamSelection {
  tapStreamId: string;
  selection: Selection;
  /** Property paths as `meltano select --list` prints them (`address.street`), sorted. */
  properties: { name: string; selection: Selection }[];
}

/** `ListSelectedExecutor.node_selection`. */
export function nodeSelection(entry: Node): Selection {
  const md = entry.metadata;
  if (!isObject(md)) return 'EXCLUDED';
  if (md.inclusion === 'automatic') return 'AUTOMATIC';
  if (md.inclusion === 'unsupported') return 'UNSUPPORTED';
  if (md.selected === true || (md.selected === undefined && Boolean(md['selected-by-default']))) return 'SELECTED';
  return 'EXCLUDED';
}

/** Per stream (sorted by ID) and property, the selection `meltano select --list --all` reports. */
export function listSelection(catalog: Catalog): StreamSelection[] {
  const out: StreamSelection[] = [];
  for (const s of catalog.streams ?? []) {
    if (!isObject(s)) continue;
    const entries = (Array.isArray(s.metadata) ? s.metadata : []).filter(
      (m): m is Node => isObject(m) && Array.isArray(m.breadcrumb),
    );
    const streamEntry = entries.find((m) => (m.breadcrumb as unknown[]).length === 0);
    const properties = entries
      .filter((m) => (m.breadcrumb as unknown[]).length > 0)
      .map((m) => ({
        // `path_property`: the names following each `properties.` segment.
        name: [
          ...(m.breadcrumb as unknown[])
            .map(String)
            .join('.')
            .matchAll(/properties\.([^.]+)/g),
        ]
          .map((x) => x[1])
          .join('.'),
        selection: nodeSelection(m),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    out.push({
      tapStreamId: String(s.tap_stream_id),
      selection: streamEntry ? nodeSelection(streamEntry) : 'EXCLUDED',
      properties,
    });
  }
  return out.sort((a, b) => (a.tapStreamId < b.tapStreamId ? -1 : a.tapStreamId > b.tapStreamId ? 1 : 0));
}

/**
 * Python `json.dumps(value)` with default separators and `ensure_ascii`, which Meltano hashes. Approximation:
 * JS has one number type, so a float with an integral value (`1.0`) renders as `1`, and keys that look like
 * array indexes come first in JS objects; neither occurs in ordinary plugin config.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  return pythonJsonDumps(typeof value === 'bigint' ? value.toString() : null);
}

/**
 * Meltano's `catalog_cache_key`: sha1 of `json_dumps({**plugin_config, "_schema": ..., "_metadata": ...})`, where
 * `plugin_config` is the flat, unprocessed setting map in setting order with unset settings as null (floe's
 * `ResolvedPluginConfig.flatConfig`). Select rules are left out on purpose: selection is re-applied every run.
 * Callers return no key (no caching) for plugins without pip_url, editable (`-e`) installs or a custom catalog.
 */
export function catalogCacheKey(
  flatConfig: Record<string, unknown>,
  schemaExtra: unknown,
  metadataExtra: unknown,
): string {
  const key = { ...flatConfig, _schema: schemaExtra ?? {}, _metadata: metadataExtra ?? {} };
  return crypto.createHash('sha1').update(pythonJsonDumps(key), 'utf8').digest('hex');
}
