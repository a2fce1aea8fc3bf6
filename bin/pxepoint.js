#!/usr/bin/env node
// Entry point of the `pxepoint` command. The TypeScript sources are compiled to
// dist/ by `npm run build` (run automatically by `npm ci` and `npm start`).
import '../dist/cli/run.js';
