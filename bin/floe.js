#!/usr/bin/env node
'use strict';
// The `floe` command. Runs the compiled CLI (npm run build); from a source checkout without a build,
// falls back to tsx so `npx floe` works right after `npm ci`.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled).runMain();
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).runMain();
}
