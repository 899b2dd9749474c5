/**
 * Priority names come from one list (alert/schema.ts). What cannot import
 * it — the console page's HTML, the client package — is checked against it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_PRIORITY, PRIORITIES } from '../../src/alert/schema';
import { urgencyOf } from '../../src/push/message';
import { PRIORITY_RANK, priorityOfRank } from '../../src/queue/alert-queue';

describe('priorities', () => {
  it('are offered by the console page exactly as the schema lists them, with the default selected', () => {
    const html = fs.readFileSync(path.resolve(__dirname, '../../src/web/pages/console.html'), 'utf8');
    const select = /<select id="priority"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
    expect([...select.matchAll(/value="([a-z]+)"/g)].map((m) => m[1])).toEqual([...PRIORITIES]);
    expect(/value="([a-z]+)" selected/.exec(select)?.[1]).toBe(DEFAULT_PRIORITY);
  });

  it('rank from 1 in the scale order, and a rank reads back as its priority', () => {
    expect(PRIORITIES.map((p) => PRIORITY_RANK[p])).toEqual([1, 2, 3, 4]);
    for (const p of PRIORITIES) expect(priorityOfRank(PRIORITY_RANK[p])).toBe(p);
    expect(priorityOfRank(0)).toBeUndefined();
    expect(priorityOfRank(undefined)).toBeUndefined();
  });

  it('give every name a push urgency, and anything else the normal one', () => {
    expect(PRIORITIES.map(urgencyOf)).toEqual(['high', 'high', 'normal', 'low']);
    for (const other of [undefined, 'constructor', 'toString', 'FLASH']) expect(urgencyOf(other)).toBe('normal');
  });
});
