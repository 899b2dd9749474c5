/**
 * One clear message for every way an API call from the CLI can fail:
 * unreachable service, refused key, validation errors listed per field.
 */
import { FlashwireApi, FlashwireApiError } from '../clients/node/api-client';
import { CliError } from './cli-error';

export function describeApiError(err: unknown, what: string): CliError {
  if (!(err instanceof FlashwireApiError)) return new CliError(`${what} failed: ${(err as Error).message ?? String(err)}`);
  const p = err.problem;
  const detail = p.detail ?? p.title ?? '';
  switch (err.status) {
    case 0:
      return new CliError(`${detail} (is the service running? set --url or FLASHWIRE_URL)`, 3);
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

/** The API client for a command: `--url` from the program, the key from --key or FLASHWIRE_KEY. */
export function apiFor(cmd: { parent: { opts(): Record<string, unknown> } | null }, key: string | undefined): FlashwireApi {
  const url = String(cmd.parent?.opts().url ?? 'http://localhost:8080');
  return new FlashwireApi(url, key);
}

export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw describeApiError(err, what);
  }
}
