#!/usr/bin/env node
/**
 * The `flashwire` command. Each subcommand lives in its own file under
 * commands/ and registers itself on the program here.
 */
import { Command } from 'commander';
import { registerApprove } from './commands/approve';
import { registerCorrect } from './commands/correct';
import { registerKeys } from './commands/keys';
import { registerList } from './commands/list';
import { registerRetract } from './commands/retract';
import { registerSend } from './commands/send';
import { registerStatus } from './commands/status';
import { registerTail } from './commands/tail';
import { registerWebhooks } from './commands/webhooks';
import { registerToken } from './commands/token';
import { CliError } from './cli-error';

function buildProgram(): Command {
  const program = new Command('flashwire')
    .description('Flashwire: breaking-news push. Post alerts, watch the stream, manage keys.')
    .option('--server <url>', 'the Flashwire service (default: the FLASHWIRE_SERVER environment variable, else http://localhost:8080)')
    .option('--insecure', 'allow sending a key or token over plain http to a host other than this machine')
    .addHelpText('after', '\nKeys and tokens are read from --key/--token or FLASHWIRE_KEY/FLASHWIRE_TOKEN and never printed.\nRun it as `npx flashwire …` inside the repository, or `npm link` once to put `flashwire` on your PATH.\n')
    .showHelpAfterError()
    .exitOverride();
  registerSend(program);
  registerStatus(program);
  registerCorrect(program);
  registerRetract(program);
  registerList(program);
  registerTail(program);
  registerKeys(program);
  registerApprove(program);
  registerWebhooks(program);
  registerToken(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(0);
    if (e.code?.startsWith('commander.')) process.exit(e.exitCode ?? 2);
    process.stderr.write(`flashwire: ${err instanceof CliError ? err.message : (e.message ?? String(err))}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  }
}

if (require.main === module) void main(process.argv);
