#!/usr/bin/env node
'use strict';
// The `floe` command. Runs the compiled CLI (`npm run build`) when it is at least as new as the sources;
// otherwise (no build, or sources edited since) it runs the TypeScript through tsx, so `npx floe` works right
// after `npm ci` and never runs stale code.
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'dist', 'src', 'cli', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function compiledIsFresh() {
  try {
    return fs.statSync(compiled).mtimeMs >= newestMtime(path.join(root, 'src'));
  } catch {
    return false;
  }
}

if (compiledIsFresh()) {
  require(compiled).runMain();
} else {
  require('tsx/cjs');
  require(path.join(root, 'src', 'cli', 'main.ts')).runMain();
}
