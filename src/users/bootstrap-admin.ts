import { apiKeyPrefix, generateApiKey, hashApiKey, maskApiKey } from '../platform/auth';
import { isUniqueViolation } from '../platform/errors';
import type { ApiKeyRecord, UserStore } from './user-store';

/**
 * The first admin key: BOOTSTRAP_ADMIN_KEY when given (imported idempotently), otherwise generated
 * once when no admin key exists. Returns the generated key so main.ts can print it once.
 */
export async function bootstrapAdmin(store: UserStore, configuredKey: string | undefined): Promise<string | undefined> {
  if (!configuredKey && (await store.countKeys('PlatformAdminKey')) > 0) return undefined;
  const key = configuredKey ?? generateApiKey();
  const keyHash = hashApiKey(key);
  if (await store.keyHashExists(keyHash)) return undefined;
  await createAdminKey(store, { apiKey: key, label: 'bootstrap admin key' });
  return configuredKey ? undefined : key;
}

/**
 * A new PlatformAdminKey for the `admin` user (created when missing): generated, or `apiKey` imported.
 * What `beacon admin create-key` runs against the database, e.g. when every admin key was revoked.
 */
export async function createAdminKey(store: UserStore, o: { apiKey?: string; label: string }): Promise<{ apiKey: string; key: ApiKeyRecord }> {
  const apiKey = o.apiKey ?? generateApiKey();
  const admin = (await store.findUser('admin')) ?? (await createAdminUser(store));
  const key = await store.createKey({
    userId: admin.id,
    keyHash: hashApiKey(apiKey),
    keyMask: maskApiKey(apiKey),
    keyPrefix: apiKeyPrefix(apiKey),
    keyLabel: o.label,
    keyType: 'PlatformAdminKey',
    allowAlgo: false,
    allowAlgoManagement: false,
    algoAcl: [],
  });
  return { apiKey, key };
}

async function createAdminUser(store: UserStore) {
  try {
    return await store.createUser({ username: 'admin', fullname: 'Platform administrator' });
  } catch (err) {
    // Another replica created it first.
    if (isUniqueViolation(err)) return (await store.findUser('admin'))!;
    throw err;
  }
}
