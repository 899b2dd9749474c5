/**
 * The canary (FLASHWIRE_CANARY_SECONDS): a routine alert on
 * private/flashwire-canary goes through API, queue, worker, feed and
 * gateway; its end-to-end time is a gauge; no reader without a grant for it
 * ever sees it, `*` included.
 */
import jwt from 'jsonwebtoken';
import { loadSettings } from '../../config/settings';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, testEnv } from '../helpers/settings';

const token = (topics: string[]) => jwt.sign({ topics }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });

function gauge(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('the canary', () => {
  it('is off by default and takes 0 (off) or at least 10 s', () => {
    expect(loadSettings(testEnv('redis://127.0.0.1:1')).FLASHWIRE_CANARY_SECONDS).toBe(0);
    expect(() => loadSettings(testEnv('redis://127.0.0.1:1', { FLASHWIRE_CANARY_SECONDS: '5' }))).toThrow(/FLASHWIRE_CANARY_SECONDS/);
  });

  it('goes end to end, exports its time, and reaches only readers granted its private topic', async () => {
    const redis = await startRedis();
    // A canary is posted at start, then every 10 s.
    const svc = await startService(redis.url, { FLASHWIRE_CANARY_SECONDS: '10' });
    try {
      // From the feed's start: the first canary may be in the feed before
      // these readers connect (the accept sends it itself while the queue is
      // idle), and otherwise the test would wait for the next one. Every
      // reader sees the same events, replayed or live.
      const since = '0-0';
      const everything = await openReader(svc.wsUrl, { topics: '*', since });
      const other = await openReader(svc.wsUrl, { topics: 'private/other,world', since, token: token(['private/other']) });
      const granted = await openReader(svc.wsUrl, { topics: 'private', since, token: token(['private']) });
      const canary = await granted.waitFor((f) => f.type === 'alert' && f.alert.topics.includes('private/flashwire-canary'), 30_000);
      expect(canary.alert).toMatchObject({ priority: 'routine', topics: ['private/flashwire-canary'] });
      expect(canary.alert.headline).toMatch(/^Flashwire canary /);

      const text = await eventually(async () => {
        const t = await (await fetch(`${svc.url}/metrics`)).text();
        return (gauge(t, 'flashwire_canary_last_success_timestamp_seconds') ?? 0) > 0 ? t : undefined;
      }, 20_000);
      expect(gauge(text, 'flashwire_canary_seconds')).toBeGreaterThan(0);

      // Markers posted after the canary arrived: once they are in, the canary
      // would have been too, had it been sent to these readers.
      const pub = await postAlert(svc.url, { headline: 'Public marker', topics: ['world'] });
      const priv = await postAlert(svc.url, { headline: 'Private marker', topics: ['private/other'] });
      await everything.waitFor((f) => f.type === 'alert' && f.alert.id === pub.body.id);
      await other.waitFor((f) => f.type === 'alert' && f.alert.id === priv.body.id);
      for (const r of [everything, other]) expect(r.frames.some((f) => f.alert?.topics?.includes('private/flashwire-canary'))).toBe(false);
      // Nor over HTTP without a credential.
      expect((await getJson(`${svc.url}/v1/alerts/${canary.alert.id}`)).status).toBe(404);
      expect((await getJson(`${svc.url}/v1/feed?topics=private/flashwire-canary`)).status).toBe(401);
      const feed = (await getJson(`${svc.url}/v1/feed`)).body;
      expect(feed.events.some((e: any) => e.alert?.id === canary.alert.id)).toBe(false);
      for (const r of [everything, other, granted]) r.close();
    } finally {
      await svc.stop();
      await redis.cleanup();
    }
  });
});
