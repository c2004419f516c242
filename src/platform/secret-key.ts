import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Outside production, a missing BEACON_SECRET_KEY is replaced by a key generated once into the
 * ignored data folder (mode 0600), so stored broker passwords survive restarts of a dev instance.
 * Production refuses to start without the variable (config.ts).
 */
export function loadOrCreateDevSecretKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'secret.key');
  if (fs.existsSync(file)) {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length === 32) return key;
    throw new Error(`${file} does not hold a 32-byte hex key; delete it or set BEACON_SECRET_KEY`);
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const key = randomBytes(32);
  fs.writeFileSync(file, key.toString('hex'), { mode: 0o600, flag: 'wx' });
  return key;
}
