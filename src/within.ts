/**
 * Waits for `p`, but at most `ms`. The timer is cleared the moment `p`
 * settles: shutdown paths race many of these, and a timer left pending
 * after its race is an open handle a test runner (or a short-lived CLI)
 * has to wait out. Resolves true when `p` fulfilled in time, false when the
 * time ran out; rejects when `p` rejected in time.
 */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([p.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
