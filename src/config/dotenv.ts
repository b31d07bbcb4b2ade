/**
 * Reading the project's `.env` the way Meltano does (python-dotenv's `dotenv_values`): `KEY=value` lines,
 * optional `export `, `#` comments, single quotes literal, double quotes with escapes (and newlines inside),
 * unquoted values trimmed with ` #` comments cut, and `${VAR}` / `${VAR:-default}` interpolated in unquoted and
 * double-quoted values from earlier `.env` entries first, then the process environment.
 */
import fs from 'node:fs';
import path from 'node:path';

const DOUBLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  b: '\b',
  f: '\f',
  v: '\v',
  a: '\x07',
};

function interpolate(value: string, defined: Record<string, string>, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([^}:]+)(?::-([^}]*))?\}/g, (_m, name: string, dflt?: string) => {
    const v = defined[name] ?? env[name];
    return v !== undefined && v !== '' ? v : (dflt ?? '');
  });
}

/** Parses `.env` text; lines that are not assignments are ignored (python-dotenv warns and skips them). */
export function parseDotenv(text: string, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  while (i < n) {
    // Skip blank space and comment lines.
    const rest = text.slice(i);
    const blank = /^[ \t]*(#[^\n]*)?\r?\n/.exec(rest);
    if (blank) {
      i += blank[0].length;
      continue;
    }
    const head = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*(=[ \t]*)?/.exec(rest);
    if (!head) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    const key = head[1] as string;
    i += head[0].length;
    let value = '';
    let interpolated = true;
    const q = text[i];
    if (head[2] !== undefined && (q === '"' || q === "'")) {
      i++;
      while (i < n && text[i] !== q) {
        const ch = text[i] as string;
        if (ch === '\\' && i + 1 < n) {
          const nxt = text[i + 1] as string;
          if (q === '"') value += DOUBLE_ESCAPES[nxt] ?? `\\${nxt}`;
          else value += nxt === "'" || nxt === '\\' ? nxt : `\\${nxt}`;
          i += 2;
        } else {
          value += ch;
          i++;
        }
      }
      i++; // closing quote
      interpolated = q === '"';
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else {
      const eol = text.indexOf('\n', i);
      const line = text.slice(i, eol < 0 ? n : eol);
      i = eol < 0 ? n : eol + 1;
      value = line
        .replace(/\r$/, '')
        .replace(/[ \t]+#.*$/, '')
        .trim();
      // No `=`: a bare `KEY` has no value (None in python-dotenv) and anything else is a parse error; skip both.
      if (head[2] === undefined) continue;
    }
    out[key] = interpolated ? interpolate(value, out, env) : value;
  }
  return out;
}

/**
 * Reads `<root>/.env`; a missing file is an empty map.
 * @throws Error (from fs) when the file exists but cannot be read.
 */
export function readDotenv(root: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const file = path.join(root, '.env');
  if (!fs.existsSync(file)) return {};
  return parseDotenv(fs.readFileSync(file, 'utf8'), env);
}
