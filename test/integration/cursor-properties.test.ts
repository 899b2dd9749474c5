/**
 * Properties of cursors (the contract's "Cursors, visibility, retention"): for any
 * string given as GET /v1/feed `after`, as the stream's `since`, or as SSE
 * `Last-Event-ID` / `since`, the answer is never a 500 and never a close
 * asking the reader to retry (1013): a canonical MS-SEQ within 64 bits is a
 * cursor (200, a resume or a resync for a cursor the feed cannot honour),
 * anything else is a 422 on the feed and `resync` (`invalid_since`) on the
 * stream. And every reader, whatever its cursor, then receives later events.
 *
 * The oracle here is written independently of src/feed/event-id.ts.
 */
import fc from 'fast-check';
import { eventually, getJson, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { STREAM_ENV } from './stream-helpers';
import { openSseFrames } from '../helpers/sse-frames';

jest.setTimeout(180_000);

const MAX = 2n ** 64n - 1n;
/** Canonical MS-SEQ, each part a decimal with no leading zeros, at most 2^64-1. */
function canonical(s: string): boolean {
  const m = /^(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/.exec(s);
  return m !== null && BigInt(m[1]!) <= MAX && BigInt(m[2]!) <= MAX;
}

const part = fc.oneof(
  fc.bigInt({ min: 0n, max: MAX }).map(String),
  fc.bigInt({ min: MAX + 1n, max: 10n ** 26n }).map(String),
  fc.constantFrom('0', '18446744073709551615', '18446744073709551616', '99999999999999999999', String(Date.now()), String(Date.now() + 86_400_000)),
  fc.stringMatching(/^0[0-9]{1,21}$/),
  fc.integer({ min: 0, max: 20 }).map(String),
);
const idLike = fc.tuple(part, part).map(([a, b]) => `${a}-${b}`);
/** Cursor strings: mostly near the form, some far from it. */
const cursor = fc.oneof(
  { weight: 4, arbitrary: idLike },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(' ', '+', '-', '\t', 'x', '0'), idLike).map(([p, s]) => p + s) },
  { weight: 1, arbitrary: fc.tuple(idLike, fc.constantFrom(' ', '-0', '.0', 'x', '-')).map(([s, p]) => s + p) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9-]{0,44}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '-', '0-0', '1-2-3', 'NaN-0', '1e3-0', '-1-0', '0x1-0', '１-0', '1_0-0', '18446744073709551615-18446744073709551615') },
);

const RESYNC_FOR_VALID = ['trimmed', 'unknown_since'];

describe('properties: cursors on the feed, the stream and SSE', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  const topic = 'cursor-prop';
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, STREAM_ENV);
    for (let i = 0; i < 3; i++) await postAlert(svc.url, { headline: `before ${i}`, topics: [topic] });
    await eventually(async () => (await getJson(`${svc.url}/v1/feed?topics=${topic}`)).body.events.length === 3);
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.cleanup();
  });

  it('GET /v1/feed?after=: 200 for a canonical cursor, 422 naming after for anything else, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(cursor, async (c) => {
        const r = await getJson(`${svc.url}/v1/feed?topics=${topic}&after=${encodeURIComponent(c)}`);
        const ok = c === '' || canonical(c);
        expect({ c, status: r.status }).toEqual({ c, status: ok ? 200 : 422 });
        if (!ok) expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['after']);
      }),
      { numRuns: 300 },
    );
  });

  it('the stream: a resume or a resync for any since, never 1013, and every reader gets later events', async () => {
    const readers: { c: string; r: TestReader }[] = [];
    await fc.assert(
      fc.asyncProperty(cursor, async (c) => {
        const r = await openReader(svc.wsUrl, { topics: topic, since: c });
        readers.push({ c, r });
        const welcome = r.frames[0];
        if (c === '') {
          expect(welcome.resumed).toBe(false);
          return;
        }
        if (welcome.resumed) {
          expect({ c, canonical: canonical(c) }).toEqual({ c, canonical: true });
          return;
        }
        const resync = await r.waitFor((f) => f.type === 'resync');
        expect({ c, reason: canonical(c) ? RESYNC_FOR_VALID.includes(resync.reason) : resync.reason }).toEqual({ c, reason: canonical(c) ? true : 'invalid_since' });
      }),
      { numRuns: 60 },
    );
    const marker = await postAlert(svc.url, { headline: 'marker for every reader', topics: [topic] });
    for (const { c, r } of readers) {
      await r.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id, 20_000).catch((err: Error) => {
        throw new Error(`reader with since ${JSON.stringify(c)} missed the marker: ${err.message}`);
      });
      expect(r.ws.readyState).toBe(r.ws.OPEN);
      r.close();
    }
  });

  it('SSE: Last-Event-ID and since get a resume or a resync, never an error status, and later events arrive', async () => {
    const streams: { c: string; frames: any[]; close(): void }[] = [];
    // Header values are printable ASCII (what HTTP carries); `since` takes anything.
    const asHeader = cursor.filter((c) => /^[\x20-\x7e]*$/.test(c));
    await fc.assert(
      fc.asyncProperty(fc.oneof(asHeader.map((c) => ['header', c] as const), cursor.map((c) => ['since', c] as const)), async ([how, c]) => {
        const s = await openSseFrames(svc.url, how === 'since' ? { topics: topic, since: c } : { topics: topic }, how === 'header' ? { 'Last-Event-ID': c } : {});
        streams.push({ c, ...s });
        expect({ c, how, status: s.status }).toEqual({ c, how, status: 200 });
        await eventually(() => s.frames.some((f) => f.type === 'welcome'));
        const effective = how === 'header' ? c.trim() : c;
        if (effective === '') return;
        const welcome = s.frames.find((f) => f.type === 'welcome');
        if (welcome.resumed) {
          expect({ c, canonical: canonical(effective) }).toEqual({ c, canonical: true });
          return;
        }
        await eventually(() => s.frames.some((f) => f.type === 'resync'));
        const reason = s.frames.find((f) => f.type === 'resync').reason as string;
        expect({ c, how, ok: canonical(effective) ? RESYNC_FOR_VALID.includes(reason) : reason === 'invalid_since' }).toEqual({ c, how, ok: true });
      }),
      { numRuns: 60 },
    );
    const marker = await postAlert(svc.url, { headline: 'marker for every stream', topics: [topic] });
    for (const s of streams) {
      await eventually(() => s.frames.some((f) => f.type === 'alert' && f.alert.id === marker.body.id), 20_000).catch((err: Error) => {
        throw new Error(`stream with cursor ${JSON.stringify(s.c)} missed the marker: ${err.message}`);
      });
      s.close();
    }
  });
});

