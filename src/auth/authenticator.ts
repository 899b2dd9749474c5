/**
 * Turns a presented credential (API key or subscriber token) into a
 * principal. Shared by the API's read paths and the gateway.
 */
import type { ApiKeyStore } from './api-keys';
import type { Principal } from './principal';

export interface Authenticator {
  /** The principal, or undefined for an unknown, revoked or expired credential. */
  authenticate(credential: string): Promise<Principal | undefined>;
}

export class KeyAuthenticator implements Authenticator {
  constructor(private readonly apiKeys: ApiKeyStore) {}

  authenticate(credential: string): Promise<Principal | undefined> {
    return this.apiKeys.authenticate(credential);
  }
}
