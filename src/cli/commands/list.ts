/** `flashwire list`: alerts newest first (pending embargoes, a lost id). */
import type { Command } from 'commander';
import type { AlertStatus } from '../../../clients/node/src';
import { apiFor, call } from '../api-errors';
import { requireKey } from '../connection';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list alerts, newest first')
    .option('--status <status>', 'only alerts with this status, e.g. scheduled')
    .option('--topic <topic>', 'only alerts this subscription would receive, e.g. europe')
    .option('--limit <n>', 'how many (1-100)', '20')
    .option('--after <id>', 'the page after this alert id (the "next" of the previous page)')
    .option('--key <key>', 'any API key (default: the FLASHWIRE_KEY environment variable)')
    .option('--json', 'print the page as JSON')
    .action(async (o: { status?: string; topic?: string; limit: string; after?: string; key?: string; json?: boolean }, cmd: Command) => {
      const api = apiFor(cmd, requireKey(o));
      const page = await call('list', () => api.list({ status: o.status as AlertStatus | undefined, topic: o.topic, limit: Number(o.limit), after: o.after }));
      if (o.json) return void process.stdout.write(JSON.stringify(page, null, 2) + '\n');
      for (const a of page.alerts) {
        const when = a.sendAt && a.status === 'scheduled' ? `sends ${a.sendAt}` : (a.sentAt ?? a.createdAt);
        process.stdout.write(`${a.id}  ${a.status.padEnd(9)}  ${when}  ${a.priority.toUpperCase().padEnd(8)} ${a.headline}\n`);
      }
      if (page.next) process.stdout.write(`# more: --after ${page.next}\n`);
    });
}
