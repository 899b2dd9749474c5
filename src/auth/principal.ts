/**
 * Who is calling: a named API key with scopes, a subscriber token with the
 * topics it grants, or nobody.
 */
export const SCOPES = ['publish', 'subscribe', 'admin', 'approve'] as const;
export type Scope = (typeof SCOPES)[number];

export interface KeyPrincipal {
  kind: 'key';
  name: string;
  scopes: readonly Scope[];
  /** The stored key's hash (never the secret): how a later check finds it still there. None for FLASHWIRE_PUBLISH_KEY. */
  keyHash?: string;
}

export interface TokenPrincipal {
  kind: 'token';
  /** Patterns the holder may subscribe to (hierarchical, like subscriptions). */
  topics: readonly string[];
  /** Expiry in ms since the epoch. */
  expiresAt: number;
  subject?: string;
}

export type Principal = KeyPrincipal | TokenPrincipal;

