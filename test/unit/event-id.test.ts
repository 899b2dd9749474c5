import fs from 'node:fs';
import path from 'node:path';
import * as clientIds from '../../clients/node/src/event-id';
import * as serverIds from '../../src/feed/event-id';
import { compareEventIds, eventTime, isEventId } from '../../src/feed/event-id';

describe('event ids', () => {
  it('compares by number, not as strings', () => {
    expect(compareEventIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEventIds('10-0', '9-0')).toBeGreaterThan(0);
    expect(compareEventIds('5-9', '5-10')).toBeLessThan(0);
    expect(compareEventIds('1714000000000-3', '1714000000000-3')).toBe(0);
    expect(compareEventIds('1714000000001-0', '1714000000000-99')).toBeGreaterThan(0);
  });

  it('agrees with comparing the two parts as 64-bit numbers, for ids of every length', () => {
    // A fixed generator, so a failure names ids that fail again.
    let x = 0x2545f491;
    const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const part = () => {
      const r = next();
      if (r < 0.2) return String(Math.floor(next() * 3));
      if (r < 0.9) return String(1714000000000 + Math.floor(next() * 5));
      return BigInt.asUintN(64, BigInt(Math.floor(next() * 2 ** 53)) * 4099n).toString();
    };
    const sign = (n: number) => Math.sign(n);
    for (let i = 0; i < 5000; i++) {
      const a = `${part()}-${part()}`;
      const b = next() < 0.3 ? a.split('-')[0] + '-' + part() : `${part()}-${part()}`;
      const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
      const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
      const want = am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
      expect({ a, b, sign: sign(compareEventIds(a, b)) }).toEqual({ a, b, sign: want });
    }
  });

  it('sorts a shuffled list the way the feed orders it', () => {
    const ordered = ['0-0', '0-1', '1-0', '9-5', '10-0', '10-2', '10-10', '100-0'];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareEventIds)).toEqual(ordered);
  });

  it('recognises only <ms>-<seq>', () => {
    expect(isEventId('1714000000000-0')).toBe(true);
    for (const bad of ['', '1714', '-1', 'a-b', '1-2-3', '1714000000000-0 ', ' 1-0', 12]) expect(isEventId(bad)).toBe(false);
  });

  it('accepts only the canonical form within 64 bits: no leading zeros, each part at most 2^64-1', () => {
    for (const good of ['0-0', '0-1', '18446744073709551615-18446744073709551615', '18446744073709551614-0', '9999999999999999999-0']) expect(isEventId(good)).toBe(true);
    for (const bad of ['00-0', '01-0', '1-01', '0-00', '18446744073709551616-0', '0-18446744073709551616', '99999999999999999999-0', '1-99999999999999999999', '100000000000000000000-0', '+1-0', '1-+0', '1e3-0', '１-0', '1_000-0']) {
      expect({ bad, ok: isEventId(bad) }).toEqual({ bad, ok: false });
    }
  });

  it('refuses leading zeros, so a padded cursor is never compared as another id', () => {
    for (const bad of ['00-0', '01-5', '0001714000000000-0', '1714000000000-00', '1714000000000-007', '0-01']) {
      expect({ bad, ok: isEventId(bad) }).toEqual({ bad, ok: false });
    }
    // The comparison is by length, then digits: it is only right for canonical ids, which is why they are checked first.
    expect(compareEventIds('10-0', '9-0')).toBeGreaterThan(0);
    expect(compareEventIds('1714000000000-10', '1714000000000-9')).toBeGreaterThan(0);
  });

  it('is one module: the service, the Node client and the browser client share the client package\'s', () => {
    for (const name of ['isEventId', 'compareEventIds', 'eventTime'] as const) expect(serverIds[name]).toBe(clientIds[name]);
    expect(serverIds.ZERO_EVENT_ID).toBe(clientIds.ZERO_EVENT_ID);
    const browser = fs.readFileSync(path.resolve(__dirname, '../../src/clients/browser/flashwire-client.ts'), 'utf8');
    expect(browser).toContain("from '../../../clients/node/src/event-id'");
  });

  it('reads the time an event entered the feed', () => {
    expect(eventTime('1714000000123-7')).toBe(1714000000123);
  });
});
