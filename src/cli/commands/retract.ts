/** `flashwire retract ID --reason TEXT`: withdraw an alert (readers see it struck through). */
import type { Command } from 'commander';
import { apiFor, call } from '../api-errors';
import { requireKey } from '../connection';

export function registerRetract(program: Command): void {
  program
    .command('retract')
    .description('withdraw an alert: a sent one becomes a retract event, a scheduled one is never sent')
    .argument('<id>', 'the alert id')
    .requiredOption('--reason <text>', 'shown to readers, 1-500 characters')
    .option('--key <key>', 'publish key (default: the FLASHWIRE_KEY environment variable)')
    .action(async (id: string, o: { reason: string; key?: string }, cmd: Command) => {
      const api = apiFor(cmd, requireKey(o));
      const a = await call('retract', () => api.retract(id, o.reason));
      process.stdout.write(`retracted ${a.id} (${a.status}): ${o.reason}\n`);
    });
}
