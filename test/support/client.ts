import { createBeaconClient, type BeaconClient } from '../../src/client/beacon-client';
import type { TestApp } from './app';
import { specChecks } from './openapi';

/** The typed client against a test app, with every request and reply checked against openapi.yaml. */
export function testClient(t: TestApp, apiKey?: string, opts: { checkRequests?: boolean } = {}): BeaconClient {
  return createBeaconClient(t.url, { apiKey, middleware: [specChecks(opts)] });
}
