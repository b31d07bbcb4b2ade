import { RuntimeError, UserError } from '../shared/errors';

/** Creating a plugin's venv or running pip/uv in it failed. CLI exit code 1, as `meltano install`. */
export class PluginInstallError extends RuntimeError {
  override readonly name: string = 'PluginInstallError';
}

/** A plugin's executable is missing; the user fixes it with `floe install` (failure type FloePluginNotInstalled). */
export class PluginNotInstalledError extends UserError {
  override readonly name: string = 'PluginNotInstalledError';
}

/** The interpreter for a plugin is outside the plugin's `supported_python_versions`. */
export class UnsupportedPythonError extends UserError {
  override readonly name: string = 'UnsupportedPythonError';
}
