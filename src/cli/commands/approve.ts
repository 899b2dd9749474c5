/**
 * `flashwire approve ID` and `flashwire reject ID --reason TEXT`: the second
 * editor's decision on an alert waiting for approval (a key with the
 * `approve` scope, not the one that published it).
 */
import type { Command } from 'commander';
import { apiFor, call } from '../api-errors';
import { CliError } from '../cli-error';
import { keyOf } from '../connection';

const KEY_HELP = 'a key with the approve scope (default: the FLASHWIRE_KEY environment variable)';

export function registerApprove(program: Command): void {
  program
    .command('approve')
    .description('approve an alert waiting for approval: it is sent (at its sendAt if embargoed)')
    .argument('<id>', 'the alert id')
    .option('--key <key>', KEY_HELP)
    .action(async (id: string, o: { key?: string }, cmd: Command) => {
      const key = keyOf(o);
      if (!key) throw new CliError('no key: pass --key or set FLASHWIRE_KEY (a key with the approve scope)');
      const a = await call('approve', () => apiFor(cmd, key).approve(id));
      process.stdout.write(`approved ${a.id} (${a.status}${a.sendAt && a.status === 'scheduled' ? `, goes at ${a.sendAt}` : ''})\n`);
    });
  program
    .command('reject')
    .description('reject an alert waiting for approval: it is never sent')
    .argument('<id>', 'the alert id')
    .requiredOption('--reason <text>', 'why, 1-500 characters (kept in the audit)')
    .option('--key <key>', KEY_HELP)
    .action(async (id: string, o: { reason: string; key?: string }, cmd: Command) => {
      const key = keyOf(o);
      if (!key) throw new CliError('no key: pass --key or set FLASHWIRE_KEY (a key with the approve scope)');
      const a = await call('reject', () => apiFor(cmd, key).reject(id, o.reason));
      process.stdout.write(`rejected ${a.id} (${a.status}): ${o.reason}\n`);
    });
}
