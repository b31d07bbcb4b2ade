/**
 * Failure `type` strings used across the activity/workflow boundary. Errors that cross the sandbox are
 * matched by these strings (never by `instanceof`), so they are constants here, shared by both sides.
 */
export const FailureType = {
  /** meltano.yml (or an included file) is invalid, or a name in the workflow input is not defined. */
  ConfigError: 'FloeConfigError',
  /** A plugin's executable is not installed; `floe install <name>` fixes it. */
  PluginNotInstalled: 'FloePluginNotInstalled',
  /** A plugin process exited non-zero or was killed; retryable. */
  PluginFailed: 'FloePluginFailed',
  /** Another run holds the state ID. */
  StateIdBusy: 'FloeStateIdBusy',
  /** Persisting state failed; the run must fail rather than drift silently. */
  StatePersistence: 'FloeStatePersistence',
  /** The workflow's own failure after a block failed; carries the run summary as details. */
  PipelineFailed: 'FloePipelineFailed',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Types a retry policy must never retry: fixing them needs a person. */
export const NON_RETRYABLE_FAILURE_TYPES: readonly string[] = [FailureType.ConfigError, FailureType.PluginNotInstalled];
