/**
 * Meltano's catalog rule language (`select`, `select_filter`, `metadata`, `schema` extras) turned into rules,
 * exactly as `meltano/core/plugin/singer/catalog.py` (`SelectPattern.parse`, `select_metadata_rules`,
 * `select_filter_metadata_rules`, `MetadataRule.match`) and `tap.py` (`config_metadata_rules`,
 * `config_schema_rules`) do in Meltano 4. Matching is Python's `fnmatch.fnmatch` on POSIX (case-sensitive).
 */
import { UserError } from '../shared/errors';

/** A rule setting metadata `key` = `value` on every node whose stream ID and breadcrumb match. */
export interface MetadataRule {
  /** One glob, or a list of globs (any match); select_filter rules use the list form. */
  tapStreamId: string | string[];
  breadcrumb: string[];
  key: string;
  value: unknown;
  /** select_filter only: the rule matches streams matching NONE of the globs (the breadcrumb must still match). */
  negated: boolean;
}

/** A rule replacing (or creating) a property's JSON schema. */
export interface SchemaRule {
  tapStreamId: string;
  breadcrumb: string[];
  payload: Record<string, unknown>;
}

/** The `metadata` or `schema` extra cannot be turned into rules. */
export class CatalogRuleError extends UserError {
  override readonly name = 'CatalogRuleError';
}

const fnmatchCache = new Map<string, RegExp>();

/** Python `fnmatch.translate` semantics: `*`, `?`, `[seq]`, `[!seq]` (ranges; no escape character), whole match. */
export function fnmatchRegExp(pattern: string): RegExp {
  const cached = fnmatchCache.get(pattern);
  if (cached) return cached;
  const pat = [...pattern]; // code points, as Python iterates str
  const n = pat.length;
  let out = '';
  let i = 0;
  const lit = (c: string) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`;
  while (i < n) {
    const c = pat[i] as string;
    i += 1;
    if (c === '*') {
      if (!out.endsWith('[^]*')) out += '[^]*';
    } else if (c === '?') {
      out += '[^]';
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j += 1;
      if (j < n && pat[j] === ']') j += 1;
      while (j < n && pat[j] !== ']') j += 1;
      if (j >= n) {
        out += lit('[');
        continue;
      }
      let content = pat.slice(i, j);
      i = j + 1;
      const negate = content[0] === '!';
      if (negate) content = content.slice(1);
      // A char followed by '-' and another char is a range (Python's chunking gives the same result);
      // a range whose start is after its end matches nothing.
      let cls = '';
      for (let p = 0; p < content.length;) {
        const a = content[p] as string;
        if (content[p + 1] === '-' && p + 2 < content.length) {
          const b = content[p + 2] as string;
          if ((a.codePointAt(0) as number) <= (b.codePointAt(0) as number)) cls += `${lit(a)}-${lit(b)}`;
          p += 3;
        } else {
          cls += lit(a);
          p += 1;
        }
      }
      if (cls === '') out += negate ? '[^]' : '(?!)';
      else out += negate ? `[^${cls}]` : `[${cls}]`;
    } else {
      out += lit(c);
    }
  }
  const re = new RegExp(`^(?:${out})$`, 'u');
  fnmatchCache.set(pattern, re);
  return re;
}

/** `fnmatch.fnmatch(name, pattern)` on POSIX. */
export function fnmatch(name: string, pattern: string): boolean {
  return fnmatchRegExp(pattern).test(name);
}

/** `MetadataRule.match` / `SchemaRule.match`; `breadcrumb` undefined = stream ID only. */
export function ruleMatches(
  rule: { tapStreamId: string | string[]; breadcrumb: string[]; negated?: boolean },
  tapStreamId: string,
  breadcrumb?: string[],
): boolean {
  const patterns = Array.isArray(rule.tapStreamId) ? rule.tapStreamId : [rule.tapStreamId];
  let result = patterns.some((p) => fnmatch(tapStreamId, p));
  if (rule.negated) result = !result;
  if (breadcrumb !== undefined) result = result && fnmatch(breadcrumb.join('.'), rule.breadcrumb.join('.'));
  return result;
}

/** `["a", "b"]` -> `["properties", "a", "properties", "b"]` (Meltano 4 no longer accepts an explicit `properties.`). */
export function propertyBreadcrumb(props: readonly string[]): string[] {
  return props.flatMap((p) => ['properties', p]);
}

export interface SelectPattern {
  streamPattern: string;
  propertyPattern: string | undefined;
  negated: boolean;
  raw: string;
}

/** Leading `!` negates; split on the first unescaped dot; `\.` in the stream part is a literal dot. */
export function parseSelectPattern(pattern: string): SelectPattern {
  const raw = pattern;
  let p = pattern;
  const negated = p.startsWith('!');
  if (negated) p = p.slice(1);
  const m = /(?<!\\)\./.exec(p);
  const stream = m ? p.slice(0, m.index) : p;
  const prop = m ? p.slice(m.index + 1) : undefined;
  return { streamPattern: stream.replaceAll('\\.', '.'), propertyPattern: prop, negated, raw };
}

function selectRule(value: boolean, stream: string | string[], props: readonly string[] = [], negated = false) {
  return { tapStreamId: stream, breadcrumb: propertyBreadcrumb(props), key: 'selected', value, negated };
}

/** `select` extra -> rules; every include rule comes before every exclude rule, so `!` wins whatever the order. */
export function selectRules(patterns: readonly string[]): MetadataRule[] {
  const include: MetadataRule[] = [];
  const exclude: MetadataRule[] = [];
  for (const pattern of patterns) {
    const parsed = parseSelectPattern(pattern);
    const selected = !parsed.negated;
    const rules = selected ? include : exclude;
    const stream = parsed.streamPattern;
    const prop = parsed.propertyPattern;
    // An empty property part (`users.`) counts as stream-only, as Python's `if not prop_pattern` does.
    if (!prop) {
      rules.push(selectRule(selected, stream), selectRule(selected, stream, ['*']));
    } else {
      if (selected || prop === '*') rules.push(selectRule(selected, stream));
      const props = prop.split('.');
      rules.push(selectRule(selected, stream, props));
      if (selected)
        for (let idx = 1; idx < props.length; idx++) rules.push(selectRule(true, stream, props.slice(0, idx)));
    }
  }
  return [...include, ...exclude];
}

/** `select_filter` (`--select`/`--exclude`): stream-level deselection only, never selects anything. */
export function selectFilterRules(patterns: readonly string[]): MetadataRule[] {
  const include = selectRule(false, [], [], true);
  const exclude = selectRule(false, []);
  for (const pattern of patterns) {
    const parsed = parseSelectPattern(pattern);
    ((parsed.negated ? exclude : include).tapStreamId as string[]).push(parsed.streamPattern);
  }
  const rules: MetadataRule[] = [];
  if ((include.tapStreamId as string[]).length > 0) rules.push(include);
  if ((exclude.tapStreamId as string[]).length > 0) rules.push(exclude);
  return rules;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `flatten_dict.flatten(d, "dot")`: nested objects joined with dots; empty objects vanish; lists are leaves. */
export function flattenDot(obj: Record<string, unknown>, prefix?: string, out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === undefined ? k : `${prefix}.${k}`;
    if (isPlainObject(v)) flattenDot(v, key, out);
    else out[key] = v;
  }
  return out;
}

/**
 * `metadata` extra -> rules: flattened keys `<stream>.<key>`, `<stream>.<prop>[.<subprop>...].<key>`.
 * @throws CatalogRuleError when a key has no `<stream>.` part.
 */
export function metadataRules(metadata: Record<string, unknown> | undefined): MetadataRule[] {
  const rules: MetadataRule[] = [];
  for (const [key, value] of Object.entries(flattenDot(metadata ?? {}))) {
    const parts = key.split('.');
    if (parts.length < 2) {
      throw new CatalogRuleError(
        `metadata entry '${key}' names no stream: keys must be <stream>: {<metadata key>: value} or <stream>: {<property>: {<metadata key>: value}}. Nest it under a stream ID or glob such as '*'.`,
      );
    }
    const tapStreamId = parts[0] as string;
    const ruleKey = parts[parts.length - 1] as string;
    rules.push({
      tapStreamId,
      breadcrumb: propertyBreadcrumb(parts.slice(1, -1)),
      key: ruleKey,
      value,
      negated: false,
    });
  }
  return rules;
}

/**
 * `schema` extra `{<stream glob>: {<prop glob>: <JSON schema>}}` -> rules.
 * @throws CatalogRuleError when a stream entry or a payload is not an object.
 */
export function schemaRules(schema: Record<string, unknown> | undefined): SchemaRule[] {
  const rules: SchemaRule[] = [];
  for (const [tapStreamId, streamConfig] of Object.entries(schema ?? {})) {
    if (!isPlainObject(streamConfig)) {
      throw new CatalogRuleError(
        `schema entry '${tapStreamId}' must be an object of {<property>: <JSON schema>}. Write it as ${tapStreamId}: {<property>: {type: [string, 'null']}}.`,
      );
    }
    for (const [prop, payload] of Object.entries(streamConfig)) {
      if (!isPlainObject(payload)) {
        throw new CatalogRuleError(
          `schema entry '${tapStreamId}.${prop}' must be a JSON schema object (got ${JSON.stringify(payload)}). Write it as {type: [string, 'null']} or similar.`,
        );
      }
      rules.push({ tapStreamId, breadcrumb: propertyBreadcrumb([prop]), payload });
    }
  }
  return rules;
}
