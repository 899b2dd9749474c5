/**
 * `flashwire token --topics private/premium --ttl 1h`: mints a subscriber
 * token (HS256, `topics` and `exp` claims) with FLASHWIRE_JWT_SECRET, for
 * trying private feeds. A newsroom's backend mints real ones the same way.
 */
import type { Command } from 'commander';
import jwt from 'jsonwebtoken';
import { TOPIC_PATTERN } from '../../alert/topics';
import { CliError } from '../cli-error';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds. */
function parseTtl(ttl: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(ttl.trim());
  const seconds = m ? Number(m[1]) * (UNITS[m[2] || 's'] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new CliError(`--ttl must be a duration like 90s, 15m, 1h or 7d (got "${ttl}")`, 2);
  return seconds;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('mint a subscriber token for private/ topics (signed with FLASHWIRE_JWT_SECRET)')
    .requiredOption('--topics <list>', 'comma list of topics the token grants, e.g. private/premium ("private" grants them all)')
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 1h, 7d', '1h')
    .option('--subject <sub>', 'a reader id for the sub claim')
    .addHelpText('after', '\nExample:\n  export TOKEN=$(npx flashwire token --topics private/premium --ttl 1h)\n')
    .action((o: { topics: string; ttl: string; subject?: string }) => {
      const secret = process.env.FLASHWIRE_JWT_SECRET;
      if (!secret) throw new CliError('FLASHWIRE_JWT_SECRET is not set: set it to the secret the service runs with', 2);
      const topics = o.topics.split(',').map((t) => t.trim()).filter(Boolean);
      const bad = topics.filter((t) => t !== '*' && !TOPIC_PATTERN.test(t));
      if (topics.length === 0 || bad.length > 0) throw new CliError(`--topics must list topics like private/premium${bad.length ? ` (not ${bad.map((b) => `"${b}"`).join(', ')})` : ''}`, 2);
      const token = jwt.sign({ topics, ...(o.subject ? { sub: o.subject } : {}) }, secret, { algorithm: 'HS256', expiresIn: parseTtl(o.ttl) });
      process.stdout.write(token + '\n');
    });
}
