/**
 * `flashwire webhooks add|list|show|remove|rotate|replay`: webhook
 * endpoints over the API, with an `admin` key (--key or FLASHWIRE_KEY).
 */
import type { Command } from 'commander';
import { FlashwireApiError } from '../../../clients/node/src/api-client';
import { describeApiError } from '../api-errors';
import { keyOf, serverFor } from '../connection';

interface Opts {
  key?: string;
  json?: boolean;
}

async function request(cmd: Command, key: string | undefined, method: string, path: string, body?: unknown): Promise<any> {
  // The same address rules as every command: --server, and no key over plain http to another host.
  const url = new URL(path, serverFor(cmd, key));
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new FlashwireApiError(0, { title: 'unreachable', detail: `cannot reach ${url.origin}: ${(err as Error).message}` } as never);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) throw new FlashwireApiError(res.status, (json ?? { title: res.statusText }) as never);
  return json;
}

function call(what: string, cmd: Command, o: Opts, method: string, path: string, body?: unknown): Promise<any> {
  return request(cmd, keyOf(o), method, path, body).catch((err: unknown) => {
    throw describeApiError(err, what);
  });
}

const out = (s: string) => process.stdout.write(s);

function lagText(w: { lag?: { events: number; seconds: number } }): string {
  return w.lag ? `${w.lag.events} events, ${w.lag.seconds} s` : '';
}

export function registerWebhooks(program: Command): void {
  const wh = program.command('webhooks').description('manage webhook endpoints (signed HTTP calls of the feed; needs an admin key)');
  const keyOpt = ['--key <key>', 'an API key with the admin scope (default: the FLASHWIRE_KEY environment variable)'] as const;

  wh.command('add')
    .description('add an endpoint; prints its signing secret (shown only this once)')
    .argument('<url>', 'the http(s) URL to call')
    .requiredOption('--topics <topics>', 'comma list of topics (or *) to deliver')
    .option('--description <text>', 'a note for people')
    .option(...keyOpt)
    .option('--json', 'print the answer as JSON')
    .action(async (url: string, o: Opts & { topics: string; description?: string }, cmd: Command) => {
      const topics = o.topics.split(',').map((t) => t.trim()).filter(Boolean);
      const w = await call('webhooks add', cmd, o, 'POST', '/v1/webhooks', { url, topics, ...(o.description ? { description: o.description } : {}) });
      if (o.json) return void out(JSON.stringify(w) + '\n');
      out(`Added webhook ${w.id} -> ${w.url} (topics: ${w.topics.join(', ')}). Its signing secret is shown only this once:\n\n  ${w.secret}\n\n`);
    });

  wh.command('list')
    .description('list endpoints with their status and lag')
    .option(...keyOpt)
    .option('--json', 'print the list as JSON')
    .action(async (o: Opts, cmd: Command) => {
      const { webhooks } = await call('webhooks list', cmd, o, 'GET', '/v1/webhooks');
      if (o.json) return void out(JSON.stringify(webhooks) + '\n');
      if (webhooks.length === 0) return void out('no webhooks\n');
      out(`${'ID'.padEnd(29)}  ${'STATUS'.padEnd(8)}  ${'LAG'.padEnd(18)}  URL\n`);
      for (const w of webhooks) out(`${w.id.padEnd(29)}  ${w.status.padEnd(8)}  ${lagText(w).padEnd(18)}  ${w.url}\n`);
    });

  wh.command('show')
    .description('show one endpoint with its last attempts')
    .argument('<id>', 'the webhook id')
    .option(...keyOpt)
    .option('--json', 'print it as JSON')
    .action(async (id: string, o: Opts, cmd: Command) => {
      const w = await call('webhooks show', cmd, o, 'GET', `/v1/webhooks/${encodeURIComponent(id)}`);
      if (o.json) return void out(JSON.stringify(w, null, 2) + '\n');
      const rows: [string, string][] = [
        ['id', w.id],
        ['url', w.url],
        ['topics', w.topics.join(', ')],
        ['status', w.status],
        ['cursor', w.cursor],
        ['lag', lagText(w)],
        ['created', w.createdAt],
        ['description', w.description],
      ];
      for (const [k, v] of rows) if (v) out(`${k.padEnd(11)} ${v}\n`);
      out(w.attempts.length ? 'last attempts:\n' : 'no attempts yet\n');
      for (const a of w.attempts) out(`  ${a.at}  ${a.eventId}  ${a.status ?? a.error}  ${a.ms} ms\n`);
    });

  wh.command('remove')
    .description('delete an endpoint')
    .argument('<id>', 'the webhook id')
    .option(...keyOpt)
    .action(async (id: string, o: Opts, cmd: Command) => {
      await call('webhooks remove', cmd, o, 'DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
      out(`removed ${id}\n`);
    });

  wh.command('rotate')
    .description('give an endpoint a new secret; calls carry both signatures for 24 h')
    .argument('<id>', 'the webhook id')
    .option(...keyOpt)
    .option('--json', 'print the answer as JSON')
    .action(async (id: string, o: Opts, cmd: Command) => {
      const w = await call('webhooks rotate', cmd, o, 'POST', `/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`);
      if (o.json) return void out(JSON.stringify(w) + '\n');
      out(`New signing secret for ${w.id} (the old one keeps signing for 24 h); shown only this once:\n\n  ${w.secret}\n\n`);
    });

  wh.command('replay')
    .description('deliver again from just after an event')
    .argument('<id>', 'the webhook id')
    .requiredOption('--from <eventId>', 'the event to resume after')
    .option(...keyOpt)
    .action(async (id: string, o: Opts & { from: string }, cmd: Command) => {
      await call('webhooks replay', cmd, o, 'POST', `/v1/webhooks/${encodeURIComponent(id)}/replay`, { from: o.from });
      out(`replaying ${id} from after ${o.from}\n`);
    });
}
