/** `flashwire retract ID --reason TEXT`: withdraw an alert (readers see it struck through). */
import type { Command } from 'commander';
import { apiFor, call } from '../api-errors';
import { CliError } from '../cli-error';

export function registerRetract(program: Command): void {
  program
    .command('retract')
    .description('withdraw an alert: a sent one becomes a retract event, a scheduled one is never sent')
    .argument('<id>', 'the alert id')
    .requiredOption('--reason <text>', 'shown to readers, 1-500 characters')
    .option('--key <key>', 'publish key (default: $FLASHWIRE_KEY)', process.env.FLASHWIRE_KEY)
    .action(async (id: string, o: { reason: string; key?: string }, cmd: Command) => {
      if (!o.key) throw new CliError('no publish key: pass --key or set FLASHWIRE_KEY');
      const a = await call('retract', () => apiFor(cmd, o.key).retract(id, o.reason));
      process.stdout.write(`retracted ${a.id} (${a.status}): ${o.reason}\n`);
    });
}
