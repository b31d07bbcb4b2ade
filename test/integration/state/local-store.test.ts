import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStateStore } from '../../../src/state/local-store';
import { describeStateStoreContract } from './store-contract';

describe('state/local-store', () => {
  let root: string;
  let store: LocalStateStore;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-state-'));
    store = new LocalStateStore({ root });
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  describeStateStoreContract('local', () => store);
});
