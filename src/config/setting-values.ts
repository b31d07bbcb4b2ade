/**
 * Setting values by kind, as Meltano's `SettingDefinition.cast_value` / `stringify_value` handle them: strings
 * (from env vars, `.env` or YAML) become booleans, integers, decimals, objects and arrays; values exported as
 * env vars become strings again.
 */
import { UserError } from '../shared/errors';
import { truthy } from './env-vars';
import { pythonJsonDumps } from '../singer/catalog';

/** A setting value cannot be converted to its declared kind. */
export class SettingValueError extends UserError {
  override readonly name = 'SettingValueError';
}

/** Python `str(value)` for the scalars a setting can hold (`True`, `None`, `5`). */
export function pythonStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** `stringify_value`: strings as they are; no kind or `string` -> Python `str()`; other kinds -> Python `json.dumps`. */
export function stringifyValue(value: unknown, kind: string | undefined): string {
  if (typeof value === 'string') return value;
  if (!kind || kind === 'string') return pythonStr(value);
  return pythonJsonDumps(value);
}

/**
 * A small reader for Python literals (`ast.literal_eval` of strings, numbers, True/False/None, lists, tuples,
 * dicts, sets), which Meltano falls back to when an object/array value is not JSON: `['a', 'b']`, `'a', 'b'`,
 * `["a",]` are all accepted there.
 */
class PyLiteral {
  private i = 0;
  constructor(private readonly s: string) {}

  parseTop(): unknown {
    const first = this.value();
    this.ws();
    if (this.s[this.i] === ',') {
      const items = [first];
      while (this.s[this.i] === ',') {
        this.i++;
        this.ws();
        if (this.i >= this.s.length) break;
        items.push(this.value());
        this.ws();
      }
      this.end();
      return items;
    }
    this.end();
    return first;
  }

  private end(): void {
    this.ws();
    if (this.i !== this.s.length) throw new Error('trailing characters');
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
  }

  private seq(close: string): unknown[] {
    const items: unknown[] = [];
    this.ws();
    while (this.s[this.i] !== close) {
      items.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error('expected , or closing bracket');
      this.ws();
    }
    this.i++;
    return items;
  }

  private value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') {
      this.i++;
      return this.seq(']');
    }
    if (c === '(') {
      this.i++;
      return this.seq(')');
    }
    if (c === '{') {
      this.i++;
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return {};
      }
      const firstKey = this.value();
      this.ws();
      if (this.s[this.i] !== ':') throw new Error('set literal');
      const obj: Record<string, unknown> = {};
      let key = firstKey;
      for (;;) {
        this.i++; // ':'
        obj[String(key)] = this.value();
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
          this.ws();
        }
        if (this.s[this.i] === '}') {
          this.i++;
          return obj;
        }
        key = this.value();
        this.ws();
        if (this.s[this.i] !== ':') throw new Error('expected :');
      }
    }
    if (c === '"' || c === "'") return this.str(c);
    const m = /^(True|False|None|[+-]?(\d[\d_]*\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?))/.exec(this.s.slice(this.i));
    if (!m) throw new Error('not a literal');
    this.i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replaceAll('_', ''));
  }

  private str(q: string): string {
    this.i++;
    let out = '';
    const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
    while (this.i < this.s.length && this.s[this.i] !== q) {
      const ch = this.s[this.i] as string;
      if (ch === '\\') {
        const nxt = this.s[this.i + 1] as string;
        out += esc[nxt] ?? `\\${nxt}`;
        this.i += 2;
      } else {
        out += ch;
        this.i++;
      }
    }
    if (this.s[this.i] !== q) throw new Error('unterminated string');
    this.i++;
    return out;
  }
}

function parseStructured(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new PyLiteral(text.trim()).parseTop();
  }
}

export interface CastContext {
  /** For messages: `setting 'port' of extractor 'tap-x' (from TAP_X_PORT)`. */
  where: string;
  options?: readonly { value?: unknown }[];
}

/**
 * `cast_value`: converts a string to the setting's kind; non-strings pass through (options are still checked).
 * @throws SettingValueError when the string does not fit the kind or is not one of the options.
 */
export function castValue(value: unknown, kind: string | undefined, ctx: CastContext): unknown {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    const fail = (what: string, fix: string) =>
      new SettingValueError(`${ctx.where} is '${shown}', which is not ${what}. ${fix}`);
    switch (kind) {
      case 'boolean':
        return truthy(value);
      case 'integer':
        // Python int(): optional sign, digits with single underscores, surrounding whitespace.
        if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(value)) throw fail('an integer', 'Use a whole number such as 5432.');
        return Number(value.replaceAll('_', '').trim());
      case 'decimal':
        if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value))
          throw fail('a decimal number', 'Use a number such as 3.14.');
        return Number(value.trim());
      case 'object':
      case 'array': {
        let parsed: unknown;
        try {
          parsed = parseStructured(value);
        } catch {
          parsed = undefined;
        }
        const ok =
          kind === 'array'
            ? Array.isArray(parsed)
            : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        if (!ok) {
          throw kind === 'array'
            ? fail('a JSON array', `Write it as JSON, e.g. '["a", "b"]'.`)
            : fail('a JSON object', `Write it as JSON, e.g. '{"key": "value"}'.`);
        }
        return parsed;
      }
      default:
        break;
    }
  }
  if (kind === 'options' && value !== null && value !== undefined && ctx.options && ctx.options.length > 0) {
    if (!ctx.options.some((o) => o.value === value)) {
      throw new SettingValueError(
        `${ctx.where} is '${pythonStr(value)}', which is not a valid choice. Use one of: ${ctx.options.map((o) => pythonStr(o.value)).join(', ')}.`,
      );
    }
  }
  return value;
}

/** Meltano's `nest_object` value processor (used by the `metadata` and `schema` extras): dotted keys become nested. */
export function nestObject(flat: Record<string, unknown>): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    const tail = parts.pop() as string;
    let cursor = obj;
    for (const p of parts) {
      if (!(p in cursor)) cursor[p] = {};
      cursor = cursor[p] as Record<string, unknown>;
    }
    if (!(tail in cursor)) cursor[tail] = structuredClone(value);
  }
  return obj;
}
