#!/usr/bin/env node
// `npx beacon ...`: the CLI in src/cli. From a checkout it runs the TypeScript through tsx (as `npm start`
// runs the service); in the image, which ships only dist/, the compiled copy.
// The only place the CLI reads process.env and sets the exit code.
const fs = require('node:fs');
const path = require('node:path');

const source = path.join(__dirname, '..', 'src', 'cli', 'cli.ts');
let cli;
if (fs.existsSync(source)) {
  require('tsx/cjs/api').register();
  cli = require(source);
} else {
  cli = require(path.join(__dirname, '..', 'dist', 'src', 'cli', 'cli.js'));
}

cli
  .runCli(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  })
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`beacon: ${err?.stack ? err.stack : err}\n`);
      process.exitCode = 1;
    },
  );
