import { canonicalJson, fingerprint } from '../../src/api/idempotency';

describe('canonical JSON', () => {
  it('sorts object keys at every level, so equal bodies give equal text', () => {
    const a = { topics: ['world'], headline: 'H', meta: { z: 1, a: [{ y: 2, b: 3 }] } };
    const b = { meta: { a: [{ b: 3, y: 2 }], z: 1 }, headline: 'H', topics: ['world'] };
    expect(canonicalJson(a)).toBe('{"headline":"H","meta":{"a":[{"b":3,"y":2}],"z":1},"topics":["world"]}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('keeps array order: a different order is a different body', () => {
    expect(canonicalJson(['world', 'europe'])).toBe('["world","europe"]');
    expect(canonicalJson(['europe', 'world'])).not.toBe(canonicalJson(['world', 'europe']));
  });

  it('leaves out undefined members, as JSON does, and writes undefined in arrays as null', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined })).toBe(canonicalJson({}));
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('writes scalars and strings exactly as JSON.stringify does', () => {
    for (const v of [null, true, false, 0, -1.5, 1e21, '', 'a"b\\c\n\u2028é', '🙂']) expect(canonicalJson(v)).toBe(JSON.stringify(v));
    expect(canonicalJson({ 'k"ey': 'v' })).toBe('{"k\\"ey":"v"}');
  });

  it('is valid JSON that parses back to the same value', () => {
    const v = { z: [1, { c: null, a: 'x' }], a: { nested: { deeper: [true, false] } } };
    expect(JSON.parse(canonicalJson(v))).toEqual(v);
  });

  it('sorts by code unit, not by locale, so every process agrees', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, _: 5 })).toBe('{"B":2,"_":5,"a":3,"b":1,"é":4}');
  });

  it('fingerprints equal bodies alike and different bodies apart', () => {
    expect(fingerprint({ headline: 'H', topics: ['world'] })).toBe(fingerprint({ topics: ['world'], headline: 'H' }));
    expect(fingerprint({ headline: 'H', topics: ['world'] })).not.toBe(fingerprint({ headline: 'H ', topics: ['world'] }));
    expect(fingerprint({ n: 1 })).not.toBe(fingerprint({ n: '1' }));
    expect(fingerprint({ headline: 'H' })).toMatch(/^[0-9a-f]{64}$/);
  });
});
