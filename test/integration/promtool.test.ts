/**
 * Prometheus' own tool on what Flashwire exports: `/metrics` passes
 * `promtool check metrics` with every series present (after alerts, readers
 * and reach figures), and the reach alert rule in docs/operations.md passes
 * `promtool check rules` and behaves under `promtool test rules`.
 * (.ci/run installs promtool, Debian's `prometheus` package, when missing.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const ROOT = path.resolve(__dirname, '../..');

function promtool(args: string[], input?: string, cwd?: string): { status: number | null; out: string } {
  const r = spawnSync(PROMTOOL, args, { input, cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${PROMTOOL} (apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The rule file as docs/operations.md shows it. */
function docsRules(): string {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
  const m = /```yaml\n(# flashwire-reach\.rules\.yml\n[\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/operations.md has no flashwire-reach.rules.yml block');
  return m[1]!;
}

describe('promtool', () => {
  it('accepts /metrics with every Flashwire series present', async () => {
    const redis = await startRedis();
    const svc = await startService(redis.url);
    try {
      const reader = await openReader(svc.wsUrl, { topics: 'world' });
      const posted = await postAlert(svc.url, { headline: 'Something for the histograms', topics: ['world'], priority: 'flash' });
      await reader.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
      reader.close();
      const text = await (await fetch(`${svc.url}/metrics`)).text();
      expect(text).toMatch(/^flashwire_reach_time_to_90_percent_seconds_count\{priority="flash"\} [1-9]/m);
      expect(text).toMatch(/^flashwire_nodejs_active_handles\{/m);
      const check = promtool(['check', 'metrics'], text);
      expect(check.out).toBe('');
      expect(check.status).toBe(0);
    } finally {
      await svc.stop();
      await redis.cleanup();
    }
  });

  it('accepts the reach rule in docs/operations.md and its unit test passes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-rules-'));
    try {
      fs.writeFileSync(path.join(dir, 'flashwire-reach.rules.yml'), docsRules());
      fs.copyFileSync(path.join(ROOT, 'test/fixtures/reach-rules.test.yml'), path.join(dir, 'reach-rules.test.yml'));
      const check = promtool(['check', 'rules', 'flashwire-reach.rules.yml'], undefined, dir);
      expect(check.out).toMatch(/SUCCESS: 2 rules found/);
      expect(check.status).toBe(0);
      const test = promtool(['test', 'rules', 'reach-rules.test.yml'], undefined, dir);
      expect(test.out).toMatch(/SUCCESS/);
      expect(test.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool test rules is not a rubber stamp: a 20 s threshold would not fire', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-rules-'));
    try {
      fs.writeFileSync(path.join(dir, 'flashwire-reach.rules.yml'), docsRules().replace(') > 5', ') > 20'));
      fs.copyFileSync(path.join(ROOT, 'test/fixtures/reach-rules.test.yml'), path.join(dir, 'reach-rules.test.yml'));
      expect(promtool(['test', 'rules', 'reach-rules.test.yml'], undefined, dir).status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
