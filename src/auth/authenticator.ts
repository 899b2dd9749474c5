/**
 * Turns a presented credential (API key or subscriber token) into a
 * principal. Shared by the API's read paths and the gateway.
 */
import type { ApiKeyStore } from './api-keys';
import type { Principal } from './principal';
import { looksLikeJwt, type SubscriberTokens } from './subscriber-token';

export interface Authenticator {
  /** The principal, or undefined for an unknown, revoked or expired credential. */
  authenticate(credential: string): Promise<Principal | undefined>;
  /** Why `authenticate` refused this credential, in words fit for the caller. */
  refusal?(credential: string): string;
}

const UNKNOWN_CREDENTIAL = 'unknown, revoked or expired credential';
/** Short enough for a WebSocket close reason (at most 123 bytes). */
export const TOKENS_NOT_CONFIGURED = 'subscriber tokens are not accepted: the service runs without FLASHWIRE_JWT_SECRET';

/** The message for a refused credential. */
export function refusalOf(authenticator: Authenticator, credential: string): string {
  return authenticator.refusal?.(credential) ?? UNKNOWN_CREDENTIAL;
}

/**
 * API keys and subscriber tokens. A JWT has a shape generated keys never
 * have (they are `fw_` plus base64url, without dots), so a valid token never
 * costs a Redis lookup; one that fails is still tried as a key, since
 * FLASHWIRE_PUBLISH_KEY may be any string.
 */
export class CredentialAuthenticator implements Authenticator {
  constructor(
    private readonly apiKeys: ApiKeyStore,
    private readonly tokens: SubscriberTokens,
  ) {}

  async authenticate(credential: string): Promise<Principal | undefined> {
    if (looksLikeJwt(credential)) {
      const token = this.tokens.verify(credential);
      if (token) return token;
    }
    return this.apiKeys.authenticate(credential);
  }

  refusal(credential: string): string {
    // A token, well formed, to a service that has no secret to check it with.
    if (looksLikeJwt(credential) && !this.tokens.configured) return TOKENS_NOT_CONFIGURED;
    return UNKNOWN_CREDENTIAL;
  }
}
