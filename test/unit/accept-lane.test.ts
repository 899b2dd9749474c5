/**
 * Which bodies the accept lane reads itself: plain UTF-8 JSON of a declared
 * length within the limit. Everything else is left to express, which reads
 * (or refuses) it as before.
 */
import { plainJsonLength } from '../../src/api/accept-lane';

const LIMIT = 64 * 1024;
const plain = { 'content-type': 'application/json', 'content-length': '120' };

describe('plainJsonLength', () => {
  it('takes a JSON type in UTF-8 with a length within the limit', () => {
    expect(plainJsonLength(plain, LIMIT)).toBe(120);
    expect(plainJsonLength({ ...plain, 'content-type': 'application/json; charset=UTF-8' }, LIMIT)).toBe(120);
    expect(plainJsonLength({ ...plain, 'content-type': 'application/json;charset="utf-8"' }, LIMIT)).toBe(120);
    expect(plainJsonLength({ ...plain, 'content-type': 'application/alert+json' }, LIMIT)).toBe(120);
    expect(plainJsonLength({ ...plain, 'content-encoding': 'identity' }, LIMIT)).toBe(120);
    expect(plainJsonLength({ ...plain, 'content-length': String(LIMIT) }, LIMIT)).toBe(LIMIT);
  });

  it('leaves everything else to express', () => {
    const refused = [
      {},
      { 'content-length': '120' },
      { ...plain, 'content-type': 'text/plain' },
      { ...plain, 'content-type': 'application/json; charset=utf-16le' },
      { ...plain, 'content-type': 'application/json; charset=utf8' },
      { ...plain, 'content-type': 'application/json; charset=iso-8859-1' },
      { ...plain, 'content-encoding': 'gzip' },
      { ...plain, 'transfer-encoding': 'chunked' },
      { 'content-type': 'application/json' },
      { ...plain, 'content-length': '0' },
      { ...plain, 'content-length': String(LIMIT + 1) },
      { ...plain, 'content-length': '12a' },
      { ...plain, 'content-length': '99999999999999' },
    ];
    for (const h of refused) expect([h, plainJsonLength(h, LIMIT)]).toEqual([h, undefined]);
  });
});
