import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fingerprintPath } from './paths';

/**
 * sha256 of the pip arguments, sorted and de-duplicated and joined with spaces: the value Meltano
 * (`core/venv_service.py::fingerprint`) writes to `.meltano_plugin_fingerprint`, so a venv made by
 * `meltano install` counts as up to date. A plugin that names its own `python` adds the interpreter to
 * the hash, so changing it reinstalls; without one the venv's interpreter is checked separately (it
 * must still exist), as Meltano does. Never throws.
 */
export function computeFingerprint(pipArgs: readonly string[], python?: string): string {
  const args = [...new Set(pipArgs)].sort().join(' ');
  const input = python === undefined ? args : `${args}\npython=${python}`;
  return createHash('sha256').update(input).digest('hex');
}

/** The stored fingerprint of a venv, or undefined when the file is missing or unreadable. Never throws. */
export async function readFingerprint(venv: string): Promise<string | undefined> {
  try {
    return (await readFile(fingerprintPath(venv), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Throws the fs error when the venv directory is not writable. */
export async function writeFingerprint(venv: string, fingerprint: string): Promise<void> {
  await writeFile(fingerprintPath(venv), fingerprint);
}
