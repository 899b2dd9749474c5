/** Counts events in one-second windows; cheap enough to keep per connection. */
export class RateWindow {
  private windowStart = 0;
  private count = 0;

  constructor(private readonly perSecond: number) {}

  /** Records one event; true when the limit for this second is exceeded. */
  hit(now: number = Date.now()): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count > this.perSecond;
  }
}
