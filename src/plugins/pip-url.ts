/**
 * `pip_url` handling as in Meltano (`core/venv_service.py::get_pip_install_args`): the string is split on
 * spaces into pip arguments, then `$VAR` / `${VAR}` are expanded in each argument; unset variables become
 * empty (Meltano's default, non-strict mode). Splitting happens first, so a value with spaces stays one
 * argument.
 */

const ENV_VAR = /\$(?:\{(\w+)\}|(\w+))/g;

/** Expands `$VAR` and `${VAR}` from `env`; unset variables expand to ''. Never throws. */
export function expandEnvVars(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(ENV_VAR, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    return env[name] ?? '';
  });
}

/** Names of the variables `value` refers to that are unset in `env` (for a warning). Never throws. */
export function missingEnvVars(value: string, env: NodeJS.ProcessEnv): string[] {
  const missing: string[] = [];
  for (const match of value.matchAll(ENV_VAR)) {
    const name = match[1] ?? match[2] ?? '';
    if (env[name] === undefined && !missing.includes(name)) missing.push(name);
  }
  return missing;
}

/**
 * The pip arguments a `pip_url` stands for: `"pkg1 pkg2"` -> `['pkg1', 'pkg2']`, `"-e ./path"` ->
 * `['-e', './path']`. Arguments that expand to nothing are dropped. Never throws; an empty result means
 * there is nothing to install.
 */
export function pipInstallArgs(pipUrl: string, env: NodeJS.ProcessEnv): string[] {
  return pipUrl
    .split(/\s+/)
    .filter((arg) => arg !== '')
    .map((arg) => expandEnvVars(arg, env))
    .filter((arg) => arg !== '');
}
