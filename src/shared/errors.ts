/**
 * Error classes used inside a process. The CLI maps `UserError` to exit code 2 and anything else to 1;
 * activities map them to `ApplicationFailure` types from `failure-types.ts`.
 */

/** A problem the user fixes (bad input, invalid meltano.yml, unknown name). CLI exit code 2. */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  readonly exitCode = 2;
}

/** A failure at run time (server unreachable, plugin crashed). CLI exit code 1. */
export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  readonly exitCode = 1;
}
