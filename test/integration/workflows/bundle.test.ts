import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { REPO_ROOT, bundleTestWorkflows } from '../../helpers/temporal';

describe('workflow bundle', function () {
  this.timeout(120_000);

  it('bundles src/workflows for the sandbox with the pipeline workflow in it', async () => {
    const bundle = await bundleTestWorkflows(path.join(REPO_ROOT, 'src', 'workflows'));
    assert.ok(bundle.code.includes('pipelineWorkflow'));
    // Activities are referenced by type only: none of their Node-side modules are in the bundle.
    assert.ok(!bundle.code.includes('child_process'));
    assert.ok(!bundle.code.includes('runExtractLoad = async'));
  });

  it('rejects workflow code that imports a Node built-in', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bundle-'));
    try {
      const file = path.join(dir, 'bad.js');
      fs.writeFileSync(
        file,
        "const fs = require('fs');\nexports.bad = async () => fs.readFileSync('/etc/hostname', 'utf8');\n",
      );
      await assert.rejects(
        bundleWorkflowCode({
          workflowsPath: file,
          logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
        }),
        /Webpack finished with errors/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
