/**
 * Turns zod issues into located, readable problems: "must be a string (got a number)", "has unknown key
 * 'pip_ur'. Accepted keys: ...", "must be one of: run, skip, only (got 'always')".
 */
import type { z } from 'zod';
import { ConfigError } from './errors';
import type { ConfigProblem, YamlPath } from './errors';
import { locate, locateKey } from './yaml-source';
import type { YamlSource } from './yaml-source';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  date: 'a date',
};

function valueAt(root: unknown, path: YamlPath): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function toProblem(source: YamlSource, issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const value = valueAt(source.value, path);
  const base = { file: source.displayName, path };
  switch (issue.code) {
    case 'unrecognized_keys': {
      const pos = locateKey(source, path, issue.keys[0] ?? '');
      return { ...base, ...pos, problem: issue.message, fix: 'Remove it or fix its spelling.' };
    }
    case 'invalid_type': {
      if (value === undefined) {
        const parentPos = locate(source, path.slice(0, -1));
        return {
          ...base,
          ...parentPos,
          problem: `is required (${EXPECTED[issue.expected] ?? issue.expected} expected)`,
        };
      }
      // Custom messages (set on the schema) win over the generic one.
      const generic = issue.message.startsWith('Invalid input');
      return {
        ...base,
        ...locate(source, path),
        problem: generic
          ? `must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${describeValue(value)})`
          : `${issue.message} (got ${describeValue(value)})`,
      };
    }
    case 'invalid_value': {
      const accepted = issue.values.map((v) => String(v)).join(', ');
      return {
        ...base,
        ...locate(source, path),
        problem: `must be one of: ${accepted} (got ${describeValue(value)})`,
      };
    }
    case 'invalid_union':
      return {
        ...base,
        ...locate(source, path),
        problem:
          issue.message === 'Invalid input'
            ? `has an unexpected shape (got ${describeValue(value)})`
            : `${issue.message} (got ${describeValue(value)})`,
      };
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = Number(small ? issue.minimum : issue.maximum);
      const bound =
        issue.origin === 'number' || issue.origin === 'int'
          ? issue.inclusive
            ? `${small ? 'at least' : 'at most'} ${limit}`
            : `${small ? 'greater' : 'less'} than ${limit}`
          : `${small ? 'at least' : 'at most'} ${limit} ${issue.origin === 'string' ? 'characters' : 'items'} long`;
      return { ...base, ...locate(source, path), problem: `must be ${bound} (got ${describeValue(value)})` };
    }
    case 'custom':
      return { ...base, ...locate(source, path), problem: `${issue.message} (got ${describeValue(value)})` };
    default:
      return { ...base, ...locate(source, path), problem: issue.message };
  }
}

/**
 * Validates the source's value against a zod schema.
 * @throws ConfigError listing every problem with its location.
 */
export function checkShape<S extends z.ZodType>(source: YamlSource, schema: S): z.infer<S> {
  const value = source.value === null || source.value === undefined ? {} : source.value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => toProblem(source, i)));
}

/** Same as checkShape for a value nested at `path` inside the source (e.g. `annotations.floe`). */
export function checkShapeAt<S extends z.ZodType>(source: YamlSource, path: YamlPath, schema: S, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true as const, data: result.data };
  const problems = result.error.issues.map((i) => toProblem(source, { ...i, path: [...path, ...i.path] }));
  return { ok: false as const, problems };
}
