'use strict';
// Beacon's git hook program, run by `git receive-pack` for pre-receive and post-receive (the
// repositories' hooks/ scripts exec it with the phase). It forwards the ref updates, and where the
// pushed objects wait (the quarantine), to Beacon's callback for this push, prints Beacon's answer
// (refusal reasons, or the build log) for git to relay to the pusher, and exits non-zero when
// Beacon refuses. Standard library only.
const http = require('http');

const phase = process.argv[2];
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const body = JSON.stringify({
    phase,
    updates: Buffer.concat(chunks).toString('utf8'),
    env: {
      GIT_OBJECT_DIRECTORY: process.env.GIT_OBJECT_DIRECTORY || '',
      GIT_ALTERNATE_OBJECT_DIRECTORIES: process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES || '',
    },
  });
  const req = http.request(process.env.BEACON_GIT_HOOK_URL, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
    const parts = [];
    res.on('data', (c) => parts.push(c));
    res.on('end', () => {
      let reply;
      try {
        reply = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch (_) {
        reply = { ok: false, message: `Beacon answered HTTP ${res.statusCode}\n` };
      }
      if (res.statusCode !== 200) reply = { ok: false, message: `Beacon refused the hook (HTTP ${res.statusCode}): ${(reply.error && reply.error.message) || ''}\n` };
      process.stderr.write(reply.message || '');
      process.exitCode = reply.ok ? 0 : 1;
    });
  });
  req.on('error', (e) => {
    process.stderr.write(`Beacon could not be reached from the git hook: ${e.message}\n`);
    process.exitCode = 1;
  });
  req.setTimeout(600000, () => req.destroy(new Error('timed out')));
  req.end(body);
});
