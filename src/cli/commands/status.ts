/** `flashwire status ID`: an alert's status and delivery report. */
import type { Command } from 'commander';
import { apiFor, call } from '../api-errors';
import { keyOf } from '../connection';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show an alert's status and delivery report")
    .argument('<id>', 'the alert id printed by send')
    .option('--key <key>', 'an API key or subscriber token, for private/ topics (default: the FLASHWIRE_KEY environment variable)')
    .option('--json', 'print the alert as JSON')
    .action(async (id: string, o: { key?: string; json?: boolean }, cmd: Command) => {
      const api = apiFor(cmd, keyOf(o));
      const a = await call('status', () => api.get(id));
      if (o.json) {
        process.stdout.write(JSON.stringify(a, null, 2) + '\n');
        return;
      }
      const r = a.report;
      const lat = r.feedToLastWriteMs;
      const rows: [string, string | undefined][] = [
        ['id', a.id],
        ['status', a.status],
        ['priority', a.priority],
        ['headline', a.headline],
        ['topics', a.topics.join(', ')],
        ['accepted', r.acceptedAt],
        ['send at', a.sendAt],
        ['sent', r.sentAt ?? undefined],
        ['event id', a.eventId],
        ['deliveries', String(r.deliveries)],
        ['receipts', String(r.receipts)],
        ['feed→write', lat ? `p50 ${lat.p50} ms, p90 ${lat.p90} ms, p99 ${lat.p99} ms, max ${lat.max} ms` : undefined],
        ['reach', r.reach ? `${r.reach.readersAtSend} readers at send; p50 ${r.reach.p50Ms ?? '—'} ms, p90 ${r.reach.p90Ms ?? '—'} ms, p99 ${r.reach.p99Ms ?? '—'} ms` : undefined],
        ['rejected', a.rejection ? `${a.rejection.reason} (by ${a.rejection.by})` : undefined],
      ];
      for (const [k, v] of rows) if (v !== undefined && v !== '') process.stdout.write(`${k.padEnd(11)} ${v}\n`);
    });
}
