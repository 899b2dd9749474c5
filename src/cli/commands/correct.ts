/**
 * `flashwire correct ID --headline …`: a correction of headline, summary or
 * url. Readers of a sent alert get an `update`; a scheduled one goes out
 * corrected.
 */
import type { Command } from 'commander';
import type { AlertPatch } from '../../../clients/node/src';
import { apiFor, call } from '../api-errors';
import { CliError } from '../cli-error';
import { requireKey } from '../connection';

interface CorrectOptions {
  headline?: string;
  summary?: string;
  url?: string;
  link?: string;
  clearSummary?: boolean;
  clearUrl?: boolean;
  key?: string;
  json?: boolean;
}

function buildPatch(o: CorrectOptions): AlertPatch {
  const patch: AlertPatch = {};
  if (o.headline !== undefined) patch.headline = o.headline;
  if (o.summary !== undefined && o.clearSummary) throw new CliError('give --summary or --clear-summary, not both', 2);
  if (o.summary !== undefined) patch.summary = o.summary;
  if (o.clearSummary) patch.summary = null;
  const url = o.url ?? o.link;
  if (url !== undefined && o.clearUrl) throw new CliError('give --url or --clear-url, not both', 2);
  if (url !== undefined) patch.url = url;
  if (o.clearUrl) patch.url = null;
  if (Object.keys(patch).length === 0) throw new CliError('nothing to correct: give --headline, --summary, --url, --clear-summary or --clear-url', 2);
  return patch;
}

export function registerCorrect(program: Command): void {
  program
    .command('correct')
    .description('correct an alert: a sent one becomes an update event for its readers')
    .argument('<id>', 'the alert id')
    .option('--headline <text>', 'the corrected headline')
    .option('--summary <text>', 'the corrected summary')
    .option('--url <url>', "the corrected link (the article); the service address is --server")
    .option('--link <url>', 'the same as --url')
    .option('--clear-summary', 'remove the summary')
    .option('--clear-url', 'remove the link')
    .option('--key <key>', 'publish key (default: the FLASHWIRE_KEY environment variable)')
    .option('--json', 'print the corrected alert as JSON')
    .addHelpText('after', '\nExample:\n  npx flashwire correct 01JD… --headline "NATO summit opens in Vilnius, Lithuania"\n')
    .action(async (id: string, o: CorrectOptions, cmd: Command) => {
      const patch = buildPatch(o);
      const api = apiFor(cmd, requireKey(o));
      const a = await call('correct', () => api.correct(id, patch));
      if (o.json) process.stdout.write(JSON.stringify(a, null, 2) + '\n');
      else process.stdout.write(`corrected ${a.id} (${a.status})  ${a.headline}\n`);
    });
}
