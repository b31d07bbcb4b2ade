/**
 * Edits of `meltano.yml` (jobs and schedules) that keep the user's file: comments, key order, quoting, blank
 * lines and spacing outside the edited entry stay byte for byte.
 *
 * The change is made with the `yaml` Document API, so the new entry is valid YAML rendered in the file's own
 * indentation style. `toString()` of the whole document is not written, though: it normalises spacing
 * everywhere (`a   # note` becomes `a # note`). Instead the lines of the edited entry in that rendering are
 * spliced into the original text in place of the original entry's lines, and the spliced text is checked to
 * mean exactly what the edited document means.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LineCounter, YAMLSeq, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair, ToStringOptions, YAMLMap } from 'yaml';
import { writeFileAtomic } from './atomic-write';
import { ConfigError } from './errors';
import { PROJECT_FILE, parseProjectText } from './load';
import type { Project } from './project';
import { RuntimeError, UserError } from '../shared/errors';

export type EditSection = 'jobs' | 'schedules';

/** An edit that cannot be made to the file as it is (entry missing from meltano.yml, not a mapping). CLI exit 2. */
export class EditError extends UserError {
  override readonly name = 'EditError';
}

/** Keys to change on an entry; `undefined` deletes the key. */
export interface EntryChanges {
  set?: Record<string, unknown>;
  /** Keys under the entry's `annotations.floe`; emptied maps are removed. */
  floe?: Record<string, unknown>;
}

interface Source {
  doc: Document.Parsed;
  lc: LineCounter;
  lines: string[];
  eol: string;
}

type Span = readonly [start: number, end: number];

function load(text: string): Source {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const first = doc.errors[0];
  if (first) {
    throw new EditError(`${PROJECT_FILE} is not valid YAML (${first.message.split('\n')[0]}); fix it before editing.`);
  }
  return { doc, lc, lines: text.split(/\r?\n/), eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

const indentOf = (line: string | undefined): number => (line === undefined ? 0 : line.length - line.trimStart().length);
const isBlank = (line: string | undefined): boolean => line !== undefined && line.trim() === '';
const isComment = (line: string | undefined): boolean => line !== undefined && line.trimStart().startsWith('#');
const lineOf = (src: Source, offset: number): number => src.lc.linePos(offset).line - 1;

/** Lines of a node; trailing blank lines and comments no deeper than its first line belong to what follows. */
function nodeSpan(src: Source, node: Node, from?: number): Span {
  const range = node.range as [number, number, number];
  const start = from ?? lineOf(src, range[0]);
  let end = lineOf(src, Math.max(range[0], range[2] - 1)) + 1;
  const base = indentOf(src.lines[start]);
  while (end > start + 1) {
    const last = src.lines[end - 1];
    if (isBlank(last) || (isComment(last) && indentOf(last) <= base)) end--;
    else break;
  }
  return [start, end];
}

function pairOf(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  return (map.items as Pair<Node, Node | null>[]).find((p) => isScalar(p.key) && p.key.value === key);
}

/** From the key's line to the end of its value. */
function pairSpan(src: Source, map: YAMLMap, key: string): Span {
  const pair = pairOf(map, key);
  if (!pair?.key.range) throw new Error(`internal: no key '${key}' to splice`);
  const start = lineOf(src, pair.key.range[0]);
  const value = pair.value;
  if (!isNode(value) || !value.range) return [start, start + 1];
  return [start, Math.max(start + 1, nodeSpan(src, value, start)[1])];
}

function rootMap(src: Source): YAMLMap {
  if (!isMap(src.doc.contents)) {
    throw new EditError(`${PROJECT_FILE} has no top-level mapping; add one (for example 'version: 1') before editing.`);
  }
  return src.doc.contents;
}

function findEntry(src: Source, section: EditSection, name: string): { seq: YAMLSeq; index: number; item: YAMLMap } {
  const seq = rootMap(src).get(section, true);
  const index = isSeq(seq) ? seq.items.findIndex((it) => isMap(it) && it.get('name') === name) : -1;
  if (!isSeq(seq) || index < 0) {
    const kind = section === 'jobs' ? 'Job' : 'Schedule';
    throw new EditError(
      `${kind} '${name}' is not defined in ${PROJECT_FILE} itself (it may come from a file in include_paths); edit that file by hand.`,
    );
  }
  return { seq, index, item: seq.items[index] as YAMLMap };
}

/** The file's own style, so rendered entries line up with their siblings. */
function renderOptions(src: Source, section: string): ToStringOptions {
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const target = rootMap(src).get(section, true);
  const seqStyle = (keyLine: number, seq: YAMLSeq): boolean | undefined => {
    const first = seq.items[0];
    if (seq.flow || !isNode(first) || !first.range) return undefined;
    return indentOf(src.lines[lineOf(src, first.range[0])]) > indentOf(src.lines[keyLine]);
  };
  if (isSeq(target)) {
    const pair = pairOf(rootMap(src), section);
    if (pair?.key.range) indentSeq = seqStyle(lineOf(src, pair.key.range[0]), target);
  }
  visit(src.doc, {
    Pair(_, pair) {
      const key = pair.key as Node | null;
      if (!isNode(key) || !key.range) return;
      const keyLine = lineOf(src, key.range[0]);
      if (indentSeq === undefined && isSeq(pair.value)) indentSeq = seqStyle(keyLine, pair.value);
      const child = isMap(pair.value) && !pair.value.flow ? (pair.value.items[0] as Pair<Node> | undefined) : undefined;
      if (indent === undefined && child?.key.range) {
        const diff = src.lc.linePos(child.key.range[0]).col - src.lc.linePos(key.range[0]).col;
        if (diff > 0) indent = diff;
      }
      return indent !== undefined && indentSeq !== undefined ? visit.BREAK : undefined;
    },
  });
  // Meltano writes two-space maps with sequences not indented under their key.
  return { indent: indent ?? 2, indentSeq: indentSeq ?? false, lineWidth: 0, singleQuote: true };
}

/** Replaces `span` of the original with `newSpan` of the rendering, then checks the meaning is the edited doc's. */
function splice(
  src: Source,
  span: Span,
  rendered: string,
  locate: (r: Source) => Span | undefined,
  prefix: string[] = [],
): string {
  const r = load(rendered);
  const newSpan = locate(r);
  const middle = newSpan ? r.lines.slice(newSpan[0], newSpan[1]) : [];
  const lines = [...src.lines.slice(0, span[0]), ...prefix, ...middle, ...src.lines.slice(span[1])];
  if (span[0] >= src.lines.length - 1 && lines[lines.length - 1] !== '') lines.push('');
  const result = lines.join(src.eol);
  const check = parseDocument(result);
  // A file laid out in a way the splice did not foresee still gets the right content, comments kept, only
  // reformatted (never a wrong or broken file).
  if (check.errors.length > 0 || !isDeepStrictEqual(check.toJS(), src.doc.toJS())) return rendered;
  return result;
}

function entryIn(r: Source, section: EditSection, index: number): Node | undefined {
  const seq = rootMap(r).get(section, true);
  return isSeq(seq) ? (seq.items[index] as Node | undefined) : undefined;
}

/**
 * Appends an entry to `jobs` or `schedules`, creating the section when missing.
 * @throws EditError when the file is not valid YAML or has no top-level mapping.
 */
export function appendEntry(text: string, section: EditSection, entry: Record<string, unknown>): string {
  const src = load(text);
  const root = rootMap(src);
  const options = renderOptions(src, section);
  const node = src.doc.createNode(entry);
  const existing = root.get(section, true);
  if (isSeq(existing) && !existing.flow && existing.items.length > 0) {
    const last = existing.items[existing.items.length - 1] as Node;
    const span = nodeSpan(src, last);
    let above = span[0] - 1;
    while (isComment(src.lines[above]) && indentOf(src.lines[above]) <= indentOf(src.lines[span[0]])) above--;
    // Entries separated by blank lines stay that way.
    const spaced = existing.items.length > 1 && isBlank(src.lines[above]);
    existing.items.push(node);
    const index = existing.items.length - 1;
    return splice(
      src,
      [span[1], span[1]],
      src.doc.toString(options),
      (r) => {
        const n = entryIn(r, section, index);
        return n ? nodeSpan(r, n) : undefined;
      },
      spaced ? [''] : [],
    );
  }
  const seq = new YAMLSeq();
  if (isSeq(existing)) seq.items.push(...existing.items);
  seq.items.push(node);
  if (existing === undefined) {
    root.set(section, seq);
    let end = src.lines.length;
    while (end > 0 && isBlank(src.lines[end - 1])) end--;
    const spaced = root.items.some((p) => isNode(p.key) && p.key.spaceBefore);
    return splice(
      src,
      [end, end],
      src.doc.toString(options),
      (r) => pairSpan(r, rootMap(r), section),
      spaced ? [''] : [],
    );
  }
  const span = pairSpan(src, root, section);
  if (isNode(existing) && existing.comment) seq.comment = existing.comment;
  root.set(section, seq);
  return splice(src, span, src.doc.toString(options), (r) => pairSpan(r, rootMap(r), section));
}

function setValue(doc: Document, map: YAMLMap, key: string, value: unknown): void {
  if (value === undefined) {
    map.delete(key);
    return;
  }
  const old = map.get(key, true);
  if (isScalar(old) && (value === null || typeof value !== 'object')) {
    // Keeps the comment beside it and its quoting.
    old.value = value;
    return;
  }
  const node = doc.createNode(value);
  if (isNode(old)) {
    if (isSeq(old) && isSeq(node)) node.flow = old.flow;
    node.comment = old.comment;
  }
  map.set(key, node);
}

/**
 * Changes keys of the entry named `name`. When one existing key changes, only that key's lines are replaced;
 * otherwise the entry's lines are.
 * @throws EditError when the entry is not in this file.
 */
export function updateEntry(text: string, section: EditSection, name: string, changes: EntryChanges): string {
  const src = load(text);
  const { index, item } = findEntry(src, section, name);
  const options = renderOptions(src, section);
  const setKeys = Object.keys(changes.set ?? {});
  const floeKeys = Object.keys(changes.floe ?? {});
  const only = setKeys.length === 1 && floeKeys.length === 0 && changes.set?.[setKeys[0] as string] !== undefined;
  const focus = only && pairOf(item, setKeys[0] as string) ? (setKeys[0] as string) : undefined;
  const span = focus ? pairSpan(src, item, focus) : nodeSpan(src, item);
  for (const key of setKeys) setValue(src.doc, item, key, changes.set?.[key]);
  if (floeKeys.length > 0) {
    if (!isMap(item.get('annotations', true))) item.set('annotations', src.doc.createNode({}));
    const annotations = item.get('annotations', true) as unknown as YAMLMap;
    if (!isMap(annotations.get('floe', true))) annotations.set('floe', src.doc.createNode({}));
    const floe = annotations.get('floe', true) as unknown as YAMLMap;
    for (const key of floeKeys) setValue(src.doc, floe, key, changes.floe?.[key]);
    if (floe.items.length === 0) annotations.delete('floe');
    if (annotations.items.length === 0) item.delete('annotations');
  }
  return splice(src, span, src.doc.toString(options), (r) => {
    const n = entryIn(r, section, index);
    if (!isMap(n)) return undefined;
    return focus ? pairSpan(r, n, focus) : nodeSpan(r, n);
  });
}

/**
 * Removes the entry named `name` with the comment lines directly above it; the last entry leaves `section: []`.
 * @throws EditError when the entry is not in this file.
 */
export function removeEntry(text: string, section: EditSection, name: string): string {
  const src = load(text);
  const root = rootMap(src);
  const { seq, index, item } = findEntry(src, section, name);
  const options = renderOptions(src, section);
  if (seq.items.length === 1) {
    const span = pairSpan(src, root, section);
    const empty = new YAMLSeq();
    empty.flow = true;
    root.set(section, empty);
    return splice(src, span, src.doc.toString(options), (r) => pairSpan(r, rootMap(r), section));
  }
  let [start, end] = nodeSpan(src, item);
  const dashIndent = indentOf(src.lines[start]);
  while (isComment(src.lines[start - 1]) && indentOf(src.lines[start - 1]) === dashIndent) start--;
  seq.items.splice(index, 1);
  const atEnd = src.lines.slice(end).every((l) => isBlank(l) || l === '');
  const keyLine = pairOf(root, section)?.key.range ? lineOf(src, pairOf(root, section)?.key.range?.[0] ?? 0) : -1;
  // Do not leave two blank lines where one entry was, nor a blank line right under the section key.
  if (isBlank(src.lines[start - 1]) && (atEnd || isBlank(src.lines[end]))) start--;
  else if (start - 1 === keyLine && isBlank(src.lines[end]) && !atEnd) end++;
  return splice(src, [start, end], src.doc.toString(options), () => undefined);
}

/** What an edit did: the text before and after, and the project as now written. */
export interface EditResult {
  before: string;
  after: string;
  project: Project;
}

/** The edit was computed but would make the project invalid; nothing was written. CLI exit 2. */
export class EditRejectedError extends UserError {
  override readonly name = 'EditRejectedError';
  constructor(override readonly cause: ConfigError) {
    super(`Nothing was written: after this change ${PROJECT_FILE} would be invalid:\n${cause.message}`);
  }
}

/**
 * Reads the project file, applies `produce`, validates the result as a whole project and only then writes it
 * atomically, so a rejected edit leaves the file byte for byte unchanged.
 * @throws EditRejectedError when the edited project would not validate; EditError from `produce`;
 *   RuntimeError when the file changed on disk meanwhile or cannot be written.
 */
export function editProjectFile(
  root: string,
  produce: (text: string) => string,
  file: string = path.join(root, PROJECT_FILE),
): EditResult {
  const before = fs.readFileSync(file, 'utf8');
  const after = produce(before);
  let project: Project;
  try {
    project = parseProjectText(after, root, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new EditRejectedError(err);
    throw err;
  }
  // A narrow guard against a concurrent edit (another floe command, an editor); not a lock.
  if (fs.readFileSync(file, 'utf8') !== before) {
    throw new RuntimeError(`${file} changed while floe was editing it; nothing was written. Run the command again.`);
  }
  try {
    writeFileAtomic(file, after);
  } catch (err) {
    throw new RuntimeError(`Cannot write ${file} (${(err as Error).message}); the file is unchanged.`);
  }
  return { before, after, project };
}

/**
 * A plugin entry to edit: the one under `plugins.<type>`, or, with `environment`, the plugin's entry under that
 * environment's `config.plugins.<type>` (created when missing), as `meltano config set --environment` writes.
 */
export interface PluginEntryRef {
  type: string;
  name: string;
  environment?: string;
}

interface PluginEntry {
  item: YAMLMap | undefined;
  span: Span;
  /** The same node in a rendering of the edited document. */
  locate: (r: Source) => YAMLMap | undefined;
}

const SINGULAR_TYPE: Record<string, string> = { extractors: 'Extractor', loaders: 'Loader', mappers: 'Mapper' };

function namedItem(seq: unknown, name: string): YAMLMap | undefined {
  return isSeq(seq) ? (seq.items.find((it) => isMap(it) && it.get('name') === name) as YAMLMap | undefined) : undefined;
}

function mapAt(map: YAMLMap | undefined, keys: string[]): YAMLMap | undefined {
  let cursor: unknown = map;
  for (const k of keys) cursor = isMap(cursor) ? cursor.get(k, true) : undefined;
  return isMap(cursor) ? cursor : undefined;
}

/** Finds (and with `create`, makes) the entry; undefined item when it does not exist and was not created. */
function pluginEntry(src: Source, ref: PluginEntryRef, create: boolean): PluginEntry {
  const root = rootMap(src);
  const kind = SINGULAR_TYPE[ref.type] ?? `Plugin (${ref.type})`;
  if (ref.environment === undefined) {
    const item = namedItem(mapAt(root, ['plugins'])?.get(ref.type, true), ref.name);
    if (!item) {
      throw new EditError(
        `${kind} '${ref.name}' is not defined in ${PROJECT_FILE} itself (it may come from a file in include_paths); edit that file by hand.`,
      );
    }
    return {
      item,
      span: nodeSpan(src, item),
      locate: (r) => namedItem(mapAt(rootMap(r), ['plugins'])?.get(ref.type, true), ref.name),
    };
  }
  const environments = root.get('environments', true);
  const index = isSeq(environments)
    ? environments.items.findIndex((it) => isMap(it) && it.get('name') === ref.environment)
    : -1;
  if (!isSeq(environments) || index < 0) {
    throw new EditError(
      `Environment '${ref.environment}' is not defined in ${PROJECT_FILE} itself (it may come from a file in include_paths); edit that file by hand.`,
    );
  }
  const env = environments.items[index] as YAMLMap;
  const span = nodeSpan(src, env);
  const inEnv = (e: unknown) =>
    namedItem(mapAt(isMap(e) ? e : undefined, ['config', 'plugins'])?.get(ref.type, true), ref.name);
  let item = inEnv(env);
  if (!item && create) {
    let cursor = env;
    for (const key of ['config', 'plugins']) {
      if (!isMap(cursor.get(key, true))) cursor.set(key, src.doc.createNode({}));
      cursor = cursor.get(key, true) as unknown as YAMLMap;
    }
    if (!isSeq(cursor.get(ref.type, true))) cursor.set(ref.type, src.doc.createNode([]));
    item = src.doc.createNode({ name: ref.name });
    (cursor.get(ref.type, true) as unknown as YAMLSeq).items.push(item);
  }
  return {
    item,
    span,
    locate: (r) => {
      const e = rootMap(r).get('environments', true);
      return isSeq(e) ? (e.items[index] as YAMLMap | undefined) : undefined;
    },
  };
}

/**
 * Sets (or, with `value` undefined, deletes) the key at `keys` under a plugin entry, creating maps on the way;
 * a delete also removes the maps it empties. `['config', 'a', 'b']` writes `config: {a: {b: value}}`, as
 * `meltano config set` writes a dotted setting; `['select']` writes the `select` extra. Returns `text` itself
 * when deleting a key that is not there.
 * @throws EditError when the file is not valid YAML, or the plugin or environment is not defined in this file.
 */
export function setPluginKey(text: string, ref: PluginEntryRef, keys: string[], value: unknown): string {
  const src = load(text);
  const entry = pluginEntry(src, ref, value !== undefined);
  const options = renderOptions(src, 'plugins');
  if (!entry.item) return text;
  const first = keys[0] as string;
  // Only the top-level key's lines change when it exists (the rest of the entry stays byte for byte).
  const focus = ref.environment === undefined && pairOf(entry.item, first)?.key.range !== undefined;
  const span = focus ? pairSpan(src, entry.item, first) : entry.span;
  const maps: YAMLMap[] = [entry.item];
  for (const key of keys.slice(0, -1)) {
    const current = maps[maps.length - 1] as YAMLMap;
    const existing: unknown = current.get(key, true);
    let child: YAMLMap;
    if (isMap(existing)) child = existing;
    else {
      if (value === undefined) return text;
      child = src.doc.createNode({});
      current.set(key, child);
    }
    maps.push(child);
  }
  const last = keys[keys.length - 1] as string;
  const holder = maps[maps.length - 1] as YAMLMap;
  if (value === undefined) {
    if (!holder.has(last)) return text;
    holder.delete(last);
    for (let i = maps.length - 1; i > 0 && (maps[i] as YAMLMap).items.length === 0; i--) {
      (maps[i - 1] as YAMLMap).delete(keys[i - 1]);
    }
  } else setValue(src.doc, holder, last, value);
  const spliced = splice(src, span, src.doc.toString(options), (r) => {
    const n = entry.locate(r);
    if (!n) return undefined;
    if (!focus) return nodeSpan(r, n);
    return pairOf(n, first) ? pairSpan(r, n, first) : undefined;
  });
  return restoreSpacing(src.lines.slice(span[0], span[1]), spliced, src.doc);
}

const squeezed = (line: string): string => line.replace(/\s+#/, ' #').trimEnd();

/**
 * The rendering normalises spacing inside the replaced lines (`a   # note` becomes `a # note`); lines that
 * only differ from an original line of the span that way get the original back, when the meaning is unchanged.
 */
function restoreSpacing(original: string[], text: string, edited: Document): string {
  const pool = new Map<string, string[]>();
  for (const line of original) {
    if (squeezed(line) !== line) pool.set(squeezed(line), [...(pool.get(squeezed(line)) ?? []), line]);
  }
  if (pool.size === 0) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const restored = text
    .split(/\r?\n/)
    .map((line) => pool.get(line)?.shift() ?? line)
    .join(eol);
  const check = parseDocument(restored);
  return check.errors.length === 0 && isDeepStrictEqual(check.toJS(), edited.toJS()) ? restored : text;
}

/** The value at `keys` under a plugin entry of this file (JS form), or undefined. */
export function getPluginKey(text: string, ref: PluginEntryRef, keys: string[]): unknown {
  const src = load(text);
  const entry = pluginEntry(src, ref, false);
  let cursor: unknown = entry.item;
  for (const key of keys) cursor = isMap(cursor) ? cursor.get(key, true) : undefined;
  return isNode(cursor) ? cursor.toJS(src.doc) : cursor;
}
