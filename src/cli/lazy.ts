/**
 * Modules loaded on first use. The Temporal SDK takes ~0.3 s to load and most commands (`job`, `schedule add`,
 * `run`, `state`, ...) never talk to a server, so the CLI requires it only inside the actions that do.
 * `require` rather than `import()`: the CLI also runs from source through tsx's CommonJS hook, where a dynamic
 * `import()` of a .ts file does not resolve.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as TemporalClient from '@temporalio/client';
import type * as Connection from '../server/connection';
import type * as DevServer from '../server/dev-server';
import type * as Sync from '../schedules/sync';
import type * as Worker from '../worker';

export const loadTemporalClient = (): typeof TemporalClient => require('@temporalio/client') as typeof TemporalClient;
export const loadConnection = (): typeof Connection => require('../server/connection') as typeof Connection;
export const loadDevServer = (): typeof DevServer => require('../server/dev-server') as typeof DevServer;
export const loadSync = (): typeof Sync => require('../schedules/sync') as typeof Sync;
export const loadWorker = (): typeof Worker => require('../worker') as typeof Worker;
