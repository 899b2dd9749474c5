import { ulid } from 'ulid';
import { metrics, observeSent } from '../../src/metrics/metrics';

async function flashSum(): Promise<number> {
  const v = (await metrics.acceptToFeed.get()).values.find((x) => x.metricName === 'flashwire_accept_to_feed_seconds_sum' && x.labels.priority === 'flash');
  return v?.value ?? 0;
}

describe('accept-to-feed', () => {
  it('does not count the time an alert waited for approval', async () => {
    const created = Date.parse('2026-11-30T12:00:00Z');
    const approved = created + 300_000;
    const before = await flashSum();
    // Flash is rank 1; sent 20 ms after the approval queued it.
    observeSent(ulid(created), `${approved + 20}-0`, undefined, 1, approved);
    expect((await flashSum()) - before).toBeCloseTo(0.02, 5);
    // Without approval, from the 202 as before.
    observeSent(ulid(created), `${created + 30}-0`, undefined, 1, created + 5);
    expect((await flashSum()) - before).toBeCloseTo(0.045, 5);
  });
});
