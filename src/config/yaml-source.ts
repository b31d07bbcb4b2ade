/**
 * A parsed YAML file that remembers where each node is, so a problem at `schedules[2].interval` can be
 * reported at its line and column.
 */
import { LineCounter, parseDocument, isNode, isCollection } from 'yaml';
import type { Document } from 'yaml';
import { ConfigError } from './errors';
import type { ConfigProblem, YamlPath } from './errors';

export interface YamlSource {
  /** The name shown in messages. */
  displayName: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain JS value (null for an empty file). */
  value: unknown;
}

/**
 * Parses YAML text keeping positions.
 * @throws ConfigError for YAML syntax errors (with line and column).
 */
export function parseYamlSource(text: string, displayName: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = [];
    for (const e of doc.errors) {
      // linePos is only filled in with prettyErrors, which also rewrites the message; derive it from the offset.
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      // One syntax slip often yields several errors at the same spot; the first says it best.
      if (problems.some((p) => p.line === pos.line && p.column === pos.col)) continue;
      const first = e.message.split('\n')[0] ?? e.message;
      const key = e.code === 'DUPLICATE_KEY' ? /^\s*("[^"]*"|'[^']*'|[^:\n]+?)\s*:/.exec(text.slice(e.pos[0])) : null;
      problems.push({
        file: displayName,
        path: [],
        line: pos.line,
        column: pos.col,
        problem: key
          ? `the file is not valid YAML: key '${key[1]}' appears twice in the same mapping`
          : `the file is not valid YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`,
        fix: key ? 'Remove or rename one of them.' : 'Fix the YAML syntax at that position.',
      });
    }
    throw new ConfigError(problems);
  }
  return { displayName, text, doc, lineCounter, value: doc.toJS({ maxAliasCount: 1000 }) as unknown };
}

/** Line and column of the deepest existing node on `path` (1-based). */
export function locate(source: YamlSource, path: YamlPath): { line?: number; column?: number } {
  let node: unknown = source.doc.contents;
  let best: unknown = node;
  for (const key of path) {
    if (!isCollection(node)) break;
    const next: unknown = node.get(key, true);
    if (next === undefined) {
      // Point at the key itself when the value is missing (e.g. an unknown key's pair).
      break;
    }
    node = next;
    best = next;
  }
  if (isNode(best) && best.range) {
    const pos = source.lineCounter.linePos(best.range[0]);
    return { line: pos.line, column: pos.col };
  }
  return {};
}

/** Position of a key (not its value) inside the map at `path`, for unknown-key messages. */
export function locateKey(source: YamlSource, path: YamlPath, key: string): { line?: number; column?: number } {
  let node: unknown = source.doc.contents;
  for (const part of path) {
    if (!isCollection(node)) return locate(source, path);
    node = node.get(part, true);
  }
  if (isCollection(node)) {
    for (const item of node.items) {
      const pair = item as { key?: unknown };
      if (isNode(pair.key) && (pair.key as { value?: unknown }).value === key && pair.key.range) {
        const pos = source.lineCounter.linePos(pair.key.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
  }
  return locate(source, path);
}
