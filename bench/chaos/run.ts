/** `npm run chaos -- --seconds N [--readers N] [--seed N]`: exits non-zero unless lost and duplicated are 0. */
import { runChaos } from '../../test/helpers/chaos';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} needs a number`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const seedArg = process.argv.includes('--seed') ? arg('seed', 0) : undefined;
  const res = await runChaos({ seconds: arg('seconds', 60), readers: arg('readers', 40), postEveryMs: arg('every-ms', 50), ...(seedArg !== undefined ? { seed: seedArg } : {}) });
  const t = res.tally;
  console.log(`accepted ${t.accepted}`);
  console.log(`delivered ${t.delivered} (of ${t.owed} reader-alert pairs owed)`);
  console.log(`lost ${t.lost}`);
  console.log(`duplicated ${t.duplicated}`);
  console.log(res.ok ? 'PASS' : `FAIL (seed ${res.seed}; disorder ${t.disorder}; post answers ${JSON.stringify(res.postCounts)})`);
  process.exit(res.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
