#!/usr/bin/env node
// `npx beacon ...`: the CLI in src/cli, run from TypeScript through tsx (as `npm start` runs the service).
// The only place the CLI reads process.env and sets the exit code.
require('tsx/cjs/api').register();
const { runCli } = require('../src/cli/cli.ts');

runCli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`beacon: ${err?.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
