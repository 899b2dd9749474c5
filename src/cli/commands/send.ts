/**
 * `flashwire send`: post an alert from flags or a JSON file (such as the
 * fixture); flags override the file's fields. Prints the accepted id.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { AlertDraft } from '../../../clients/node/src';
import { DEFAULT_PRIORITY, PRIORITIES } from '../../alert/schema';
import { apiFor, call } from '../api-errors';
import { CliError } from '../cli-error';
import { requireKey } from '../connection';

interface SendOptions {
  file?: string;
  headline?: string;
  summary?: string;
  link?: string;
  url?: string;
  topics?: string;
  priority?: string;
  sendAt?: string;
  expiresAt?: string;
  idempotencyKey?: string;
  key?: string;
  json?: boolean;
  quiet?: boolean;
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${file} must hold one JSON object (an alert)`);
  return parsed as Record<string, unknown>;
}

function buildDraft(o: SendOptions): Record<string, unknown> {
  const draft: Record<string, unknown> = o.file ? readFile(o.file) : {};
  if (o.headline !== undefined) draft.headline = o.headline;
  if (o.summary !== undefined) draft.summary = o.summary;
  if (o.link !== undefined && o.url !== undefined && o.link !== o.url) throw new CliError('--url and --link are the same thing (the alert\'s link): give one', 2);
  if ((o.url ?? o.link) !== undefined) draft.url = o.url ?? o.link;
  if (o.topics !== undefined) draft.topics = o.topics.split(',').map((t) => t.trim()).filter(Boolean);
  if (o.priority !== undefined) draft.priority = o.priority;
  if (o.sendAt !== undefined) draft.sendAt = o.sendAt;
  if (o.expiresAt !== undefined) draft.expiresAt = o.expiresAt;
  if (draft.headline === undefined || draft.topics === undefined) throw new CliError('an alert needs --headline and --topics (or a --file that has them)', 2);
  return draft;
}

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('post an alert (202 = durable and queued); prints its id')
    .option('-f, --file <path>', 'a JSON alert, e.g. the fixture ("-" reads stdin); flags override its fields')
    .option('--headline <text>', 'plain text, 1-200 characters')
    .option('--summary <text>', 'plain text, at most 2,000 characters')
    .option('--url <url>', "the alert's link, the article (absolute http/https); the service address is --server")
    .option('--link <url>', 'the same as --url')
    .option('--topics <list>', 'comma list, e.g. world,europe/ukraine')
    .option('--priority <level>', `${PRIORITIES.join(' | ')} (default ${DEFAULT_PRIORITY})`)
    .option('--send-at <iso>', 'embargo: send at this ISO-8601 instant (at most 30 days ahead)')
    .option('--expires-at <iso>', 'never delivered after this instant')
    .option('--idempotency-key <key>', 'a retry with the same key and body creates nothing new')
    .option('--key <key>', 'publish key (default: the FLASHWIRE_KEY environment variable)')
    .option('--json', 'print the accepted alert as JSON')
    .option('-q, --quiet', 'print only the id')
    .addHelpText(
      'after',
      '\nExamples:\n  npx flashwire send --file test/fixtures/stoltenberg-nato-alert.json\n  npx flashwire send --headline "Polls close" --topics elections,us --priority flash --url https://example.org/polls\n',
    )
    .action(async (o: SendOptions, cmd: Command) => {
      const draft = buildDraft(o);
      const api = apiFor(cmd, requireKey(o));
      const alert = await call('send', () => api.send(draft as unknown as AlertDraft, { idempotencyKey: o.idempotencyKey }));
      if (o.json) process.stdout.write(JSON.stringify(alert, null, 2) + '\n');
      else if (o.quiet) process.stdout.write(alert.id + '\n');
      else process.stdout.write(`accepted ${alert.id} (${alert.status}${alert.sendAt ? `, sends at ${alert.sendAt}` : ''})  ${alert.priority.toUpperCase()}  ${alert.headline}\n`);
    });
}
