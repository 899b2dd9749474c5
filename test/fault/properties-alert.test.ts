/**
 * Bad input at volume on POST /v1/alerts: arbitrary JSON, wrong types, huge
 * strings, deep nesting, invalid UTF-8, wrong media types. Every answer is a
 * documented code (202 for the rare valid draw, else 400/413/415/422) as an
 * RFC 9457 problem document — never a 500, never a hang — the service keeps
 * delivering to readers throughout, and its memory comes back to where it was.
 */
import fc from 'fast-check';
import { PUBLISH_KEY, startFaultRig, whileServingBystanders, type ChildService, type FaultRig } from './fault-kit';
import { describeMemory, MB, memoryOf, type Memory } from './memory';

const DOCUMENTED = [202, 400, 413, 415, 422];
// Each property runs this many cases; the whole file stays well under a minute.
const RUNS = 150;

describe('properties: POST /v1/alerts under bad input', () => {
  let rig: FaultRig;
  let svc: ChildService;
  let statuses: Record<number, number>;

  beforeAll(async () => {
    rig = await startFaultRig();
    svc = await rig.spawn();
    statuses = {};
  });
  afterAll(() => rig.close());

  /** Posts raw bytes; fails the property on a 500, an undocumented code, a bad problem document or a hang. */
  async function post(body: string | Uint8Array, contentType = 'application/json'): Promise<number> {
    const res = await fetch(`${svc.url}/v1/alerts`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Authorization: `Bearer ${PUBLISH_KEY}` },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (!DOCUMENTED.includes(res.status)) throw new Error(`undocumented ${res.status}: ${text.slice(0, 300)}`);
    if (res.status === 202) return 202;
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = JSON.parse(text) as { type: unknown; title: unknown; status: unknown; detail: unknown; errors?: unknown };
    expect(typeof p.type).toBe('string');
    expect(typeof p.title).toBe('string');
    expect(typeof p.detail).toBe('string');
    expect(p.status).toBe(res.status);
    if (res.status === 422) {
      expect(Array.isArray(p.errors)).toBe(true);
      for (const e of p.errors as { path: unknown; message: unknown }[]) {
        expect(typeof e.path).toBe('string');
        expect(typeof e.message).toBe('string');
      }
    }
    return res.status;
  }

  const valid = { headline: 'Valid', topics: ['world'] };
  const weird = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ minLength: 190, maxLength: 5000 }),
    fc.array(fc.string({ maxLength: 30 }), { maxLength: 30 }),
    fc.constantFrom(null, true, 0, -1, 1e308, '', ' ', '\u0000', '<script>alert(1)</script>', 'javascript:alert(1)', '2026-13-45T99:99:99Z', 'private/x', '*'),
  );

  /** Every property once; run twice so the second round measures steady state, not warm-up. */
  async function everyProperty(): Promise<void> {
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (v) => void (await post(JSON.stringify(v)))), { numRuns: RUNS });
    // Every field of a valid alert replaced by something wrong, or extra fields.
    await fc.assert(
      fc.asyncProperty(fc.record({ headline: weird, topics: weird, summary: weird, url: weird, priority: weird, sendAt: weird, expiresAt: weird, extra: weird }, { requiredKeys: [] }), async (fields) => {
        const status = await post(JSON.stringify({ ...valid, ...fields }));
        expect([202, 422]).toContain(status);
      }),
      { numRuns: RUNS },
    );
    // Nesting deeper than any parser's recursion budget, in arrays and objects.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30_000 }), fc.boolean(), fc.boolean(), async (depth, arrays, asHeadline) => {
        const deep = arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        const status = await post(asHeadline ? `{"headline":${deep},"topics":["world"]}` : deep);
        expect([413, 422]).toContain(status);
      }),
      { numRuns: 40 },
    );
    // Raw bytes, invalid UTF-8 included, declared as JSON.
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => void (await post(bytes))), { numRuns: RUNS });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 50 }), async (bytes) => {
        // Invalid UTF-8 inside the headline string.
        const body = Buffer.concat([Buffer.from('{"headline":"'), Buffer.from(bytes.map((b) => (b === 0x22 || b === 0x5c ? 0xff : b | 0x80))), Buffer.from('","topics":["world"]}')]);
        await post(body);
      }),
      { numRuns: 60 },
    );
    // Huge strings: over the body limit is 413, under it a 422 naming the field.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 201, max: 300_000 }), fc.constantFrom('headline', 'summary', 'url'), async (n, field) => {
        const body = JSON.stringify({ ...valid, [field]: 'x'.repeat(n) });
        const status = await post(body);
        expect(status).toBe(Buffer.byteLength(body) > 64 * 1024 ? 413 : field === 'summary' && n <= 2000 ? 202 : 422);
      }),
      { numRuns: 60 },
    );
    // Not declared as JSON at all.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'image/png'), fc.string({ maxLength: 200 }), async (type, text) => {
        expect(await post(text, type)).toBe(415);
      }),
      { numRuns: 30 },
    );
  }

  it('answers arbitrary, nested, huge, binary and mistyped bodies with a documented code and problem document, serving everyone else throughout', async () => {
    let before: Memory | undefined;
    let after: Memory | undefined;
    // Everyone else is served throughout: every bystander alert reaches every reader once.
    await whileServingBystanders(rig, svc, async () => {
      await everyProperty();
      before = await memoryOf(svc.child.pid!, svc.url);
      await everyProperty();
      after = await memoryOf(svc.child.pid!, svc.url);
    });
    // A leak of even one body per request would be several hundred MB here.
    console.log(`${describeMemory('api, second round of bad input', before!, after!)}; answers ${JSON.stringify(statuses)}`);
    expect(after!.rss - before!.rss).toBeLessThan(96 * MB);
    if (after!.heapUsed !== undefined && before!.heapUsed !== undefined) expect(after!.heapUsed - before!.heapUsed).toBeLessThan(32 * MB);
  }, 170_000);
});
