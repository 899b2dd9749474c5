/**
 * One clear message for every way an API call from the CLI can fail:
 * unreachable service, refused key, validation errors listed per field.
 * No message ever carries a credential.
 */
import type { Command } from 'commander';
import { FlashwireApi, FlashwireApiError } from '../../clients/node/src';
import { CliError } from './cli-error';
import { serverFor } from './connection';

export function describeApiError(err: unknown, what: string): CliError {
  if (!(err instanceof FlashwireApiError)) return new CliError(`${what} failed: ${(err as Error).message ?? String(err)}`);
  const p = err.problem;
  const detail = p.detail ?? p.title ?? '';
  switch (err.status) {
    case 0:
      return new CliError(`${detail} (is the service running? set --server or FLASHWIRE_SERVER)`, 3);
    case 401:
      return new CliError(`${what} failed: the key was refused (401${detail ? `: ${detail}` : ''}); pass a valid key with --key or FLASHWIRE_KEY`);
    case 403:
      return new CliError(`${what} failed: the key may not do this (403${detail ? `: ${detail}` : ''})`);
    case 422:
      if (p.errors?.length) return new CliError(`${what} failed: the service rejected these fields (422):\n${p.errors.map((e) => `  ${e.path || '(body)'}: ${e.message}`).join('\n')}`);
      return new CliError(`${what} failed (422): ${detail}`);
    default:
      return new CliError(`${what} failed (${err.status}${p.title ? ` ${p.title}` : ''}): ${detail}`);
  }
}

/** The API client for a command: the server from --server or FLASHWIRE_SERVER, the key given. */
export function apiFor(cmd: Command, key: string | undefined): FlashwireApi {
  return new FlashwireApi({ url: serverFor(cmd, key).toString(), key });
}

export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw describeApiError(err, what);
  }
}
