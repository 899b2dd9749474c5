/**
 * "Get alerts when this tab is closed": the reader page's Web Push offer.
 * Nothing is asked of the reader until they click: then the notification
 * permission, the service worker at /sw.js, a subscription at the browser's
 * push service, and the subscription posted to Flashwire with the page's
 * topics. A browser that cannot reach its push service (no network to it,
 * or a browser built without one) gets a plain sentence saying so.
 */
const KEY_PATH = '/v1/push/key';
const SUBSCRIPTIONS_PATH = '/v1/push/subscriptions';
/** Where the page leaves the topics for the service worker, should the browser renew the subscription. */
export const TOPICS_CACHE = 'flashwire-push';
export const TOPICS_URL = '/push-topics';

export interface PushOfferOptions {
  button: HTMLButtonElement;
  status: HTMLElement;
  /** The topics the page follows ([] for every public one). */
  topics: () => string[];
}

/** How long the browser may take to get a subscription from its push service before the page says it cannot. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}

function keyBytes(b64url: string): Uint8Array {
  const s = atob(b64url.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function problemDetail(res: Response): Promise<string> {
  try {
    const p = (await res.json()) as { detail?: string };
    return p.detail ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

export function setupPushOffer(o: PushOfferOptions): void {
  const { button, status } = o;
  const say = (state: string, text: string) => {
    status.hidden = false;
    status.dataset.state = state;
    status.textContent = text;
  };
  const topicList = () => {
    const t = o.topics();
    return t.length ? t : ['*'];
  };
  const describe = (topics: string[]) => (topics.includes('*') ? 'every public topic' : topics.join(', '));
  let on = false;
  const render = () => {
    button.textContent = on ? 'Stop alerts when this tab is closed' : 'Get alerts when this tab is closed';
    button.dataset.on = String(on);
  };

  if (!('serviceWorker' in navigator) || !('PushManager' in window) || typeof Notification === 'undefined') {
    button.hidden = true;
    say('unsupported', 'This browser cannot show alerts while the tab is closed; keep this tab open to see them.');
    return;
  }
  render();

  // Show an existing subscription without asking anything of the reader.
  void navigator.serviceWorker
    .getRegistration('/')
    .then((reg) => reg?.pushManager.getSubscription())
    .then((sub) => {
      if (sub && Notification.permission === 'granted') {
        on = true;
        render();
      }
    })
    .catch(() => undefined);

  const post = async (sub: PushSubscription, topics: string[]) => {
    const res = await fetch(SUBSCRIPTIONS_PATH, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ subscription: sub.toJSON(), topics }) });
    if (!res.ok) throw new Error(await problemDetail(res));
    await caches.open(TOPICS_CACHE).then((c) => c.put(TOPICS_URL, new Response(JSON.stringify(topics)))).catch(() => undefined);
  };

  const turnOn = async () => {
    say('asking', 'Asking your browser for permission to notify you…');
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      say('denied', permission === 'denied' ? 'Notifications are blocked for this site. Allow them in your browser’s site settings to get alerts with the tab closed.' : 'Notifications were not allowed, so nothing changed.');
      return;
    }
    const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    const keyRes = await fetch(KEY_PATH);
    if (!keyRes.ok) throw new Error(await problemDetail(keyRes));
    const { publicKey } = (await keyRes.json()) as { publicKey: string };
    let sub: PushSubscription;
    try {
      const existing = await reg.pushManager.getSubscription();
      // Without a route to its push service a browser may wait a long time before it fails: say so after a while.
      sub = existing ?? (await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) as BufferSource }), SUBSCRIBE_TIMEOUT_MS));
    } catch (err) {
      // Chromium answers "push service not available" or "Registration failed - push service error" when it cannot reach its push service.
      say('unreachable', `Your browser could not reach its push service (${(err as Error).message || (err as Error).name}), so alerts cannot reach this device while the tab is closed. They still appear here while this tab is open.`);
      return;
    }
    const topics = topicList();
    try {
      await post(sub, topics);
    } catch (err) {
      await sub.unsubscribe().catch(() => undefined);
      say('error', `Flashwire did not take the subscription: ${(err as Error).message}`);
      return;
    }
    on = true;
    render();
    say('on', `On: alerts for ${describe(topics)} reach this device even with the tab closed.`);
  };

  const turnOff = async () => {
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sub = await reg?.pushManager.getSubscription();
    if (sub) {
      // Flashwire forgets it first: should that fail, the page stays on and says so rather than claim an off it is not.
      const res = await fetch(SUBSCRIPTIONS_PATH, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ endpoint: sub.endpoint }) });
      if (!res.ok) throw new Error(await problemDetail(res));
      await sub.unsubscribe();
    }
    on = false;
    render();
    say('off', 'Off: this device no longer gets alerts with the tab closed.');
  };

  button.addEventListener('click', () => {
    button.disabled = true;
    (on ? turnOff() : turnOn())
      .catch((err: Error) => say('error', `Something went wrong: ${err.message}`))
      .finally(() => (button.disabled = false));
  });

  // The reader changed what the page follows: the subscription follows too.
  document.getElementById('subscribe')?.addEventListener('submit', () => {
    if (!on) return;
    void navigator.serviceWorker
      .getRegistration('/')
      .then((reg) => reg?.pushManager.getSubscription())
      .then(async (sub) => {
        if (!sub) return;
        const topics = topicList();
        await post(sub, topics);
        say('on', `On: alerts for ${describe(topics)} reach this device even with the tab closed.`);
      })
      .catch((err: Error) => say('error', `Could not update the alerts for a closed tab: ${err.message}`));
  });
}
