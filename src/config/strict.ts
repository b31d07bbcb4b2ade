import { z } from 'zod';

/**
 * A strict zod object (unknown keys rejected, as Meltano's schema does with `additionalProperties: false`)
 * whose unknown-key message names every accepted key, so the user sees what would have been valid.
 */
export function strict<T extends z.ZodRawShape>(shape: T) {
  const accepted = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}. Accepted keys: ${accepted}`
        : undefined,
  });
}
