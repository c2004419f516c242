import { apiKeyPrefix, generateApiKey, hashApiKey, maskApiKey } from '../platform/auth';
import { isUniqueViolation } from '../platform/errors';
import type { UserStore } from './user-store';

/**
 * The first admin key: BOOTSTRAP_ADMIN_KEY when given (imported idempotently), otherwise generated
 * once when no admin key exists. Returns the generated key so main.ts can print it once.
 */
export async function bootstrapAdmin(store: UserStore, configuredKey: string | undefined): Promise<string | undefined> {
  if (!configuredKey && (await store.countKeys('PlatformAdminKey')) > 0) return undefined;
  const key = configuredKey ?? generateApiKey();
  const keyHash = hashApiKey(key);
  if (await store.keyHashExists(keyHash)) return undefined;
  const admin = (await store.findUser('admin')) ?? (await createAdminUser(store));
  await store.createKey({
    userId: admin.id,
    keyHash,
    keyMask: maskApiKey(key),
    keyPrefix: apiKeyPrefix(key),
    keyLabel: 'bootstrap admin key',
    keyType: 'PlatformAdminKey',
    allowAlgo: false,
    allowAlgoManagement: false,
    algoAcl: [],
  });
  return configuredKey ? undefined : key;
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
