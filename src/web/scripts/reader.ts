/**
 * The reader page (/): a live ticker of alerts by topic. Corrections are
 * applied in place, retractions struck through with their reason.
 *
 * On load it shows the newest alerts of its topics (`GET /v1/feed?last=`),
 * then goes live from the feed position that answer ends at, so nothing
 * falls between the two. After a `resync` it catches up the same way.
 */
import {
  FlashwireClient,
  compareEventIds,
  type AlertFrame,
  type AlertPayload,
  type RetractFrame,
  type StateEvent,
  type UpdateFrame,
} from '../../clients/browser/flashwire-client';
import { $, clock, el, safeHref } from './dom';
import { setupPushOffer } from './push-offer';

const params = new URLSearchParams(location.search);
const initialTopics = (params.get('topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
const forced = params.get('transport');

/** Alerts shown on load: the newest this many of the page's topics. */
const BACKLOG_ALERTS = 20;
/** Events read back to find them (corrections and retractions are events too). */
const BACKLOG_EVENTS = 100;

type EventFrame = AlertFrame | UpdateFrame | RetractFrame;

const list = $<HTMLOListElement>('#ticker');
const empty = $('#empty');
const cards = new Map<string, HTMLLIElement>();
const seenTopics = new Set<string>();
let filter = '';

function topicMatches(topics: string[], wanted: string): boolean {
  return wanted === '' || topics.some((t) => t === wanted || t.startsWith(wanted + '/'));
}

function renderBody(card: HTMLElement, a: AlertPayload): void {
  const href = safeHref(a.url);
  const headline = href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer', text: a.headline }) : el('span', { text: a.headline });
  const h = $('.headline', card);
  h.replaceChildren(headline);
  const summary = $('.summary', card);
  summary.textContent = a.summary ?? '';
  summary.hidden = !a.summary;
}

function card(a: AlertPayload, eventId: string): HTMLLIElement {
  const li = el(
    'li',
    // data-order: the event that first showed the alert; the ticker is sorted by it, newest first.
    { class: `alert p-${a.priority}`, 'data-alert-id': a.id, 'data-event-id': eventId, 'data-order': eventId, 'data-topics': a.topics.join(' ') },
    el(
      'div',
      { class: 'meta' },
      el('span', { class: 'badge', text: a.priority }),
      el('time', { datetime: a.sentAt ?? a.createdAt, text: clock(a.sentAt ?? a.createdAt) }),
      el('span', { class: 'corrected', hidden: '' }),
    ),
    el('h2', { class: 'headline' }),
    el('p', { class: 'summary' }),
    el('p', { class: 'retraction', hidden: '' }),
    el('ul', { class: 'topics' }, ...a.topics.map((t) => el('li', {}, el('button', { type: 'button', 'data-topic': t, text: t })))),
  );
  renderBody(li, a);
  return li;
}

function show(li: HTMLLIElement): void {
  li.hidden = !topicMatches((li.dataset.topics ?? '').split(' '), filter);
}

function addTopics(topics: string[]): void {
  let changed = false;
  for (const t of topics) {
    const top = t.split('/')[0]!;
    for (const x of [top, t]) if (!seenTopics.has(x)) (seenTopics.add(x), (changed = true));
  }
  if (changed) renderTabs();
}

function renderTabs(): void {
  const tabs = $('#tabs');
  const all = ['', ...[...seenTopics].sort()];
  tabs.replaceChildren(
    ...all.map((t) => el('button', { type: 'button', class: 'tab', 'data-topic': t, 'aria-pressed': String(t === filter), text: t || 'All topics' })),
  );
}

function setFilter(t: string): void {
  filter = t;
  renderTabs();
  for (const li of cards.values()) show(li);
}

document.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-topic]');
  if (b) setFilter(b.dataset.topic ?? '');
});

/** Puts a new card where its event falls: live ones on top, caught-up ones below newer cards. */
function place(li: HTMLLIElement): void {
  const order = li.dataset.order!;
  let before: HTMLLIElement | undefined;
  for (const other of cards.values()) {
    if (other === li || compareEventIds(other.dataset.order!, order) > 0) continue;
    if (!before || compareEventIds(other.dataset.order!, before.dataset.order!) > 0) before = other;
  }
  if (before) list.insertBefore(li, before);
  else list.append(li);
  empty.hidden = true;
}

function addCard(alert: AlertPayload, eventId: string): HTMLLIElement {
  const li = card(alert, eventId);
  cards.set(alert.id, li);
  addTopics(alert.topics);
  show(li);
  place(li);
  return li;
}

/** True when the card already reflects this event or a later one (a refetch can bring older ones). */
function stale(li: HTMLLIElement, eventId: string): boolean {
  return compareEventIds(eventId, li.dataset.eventId!) <= 0;
}

function onAlert({ alert, eventId }: AlertFrame, live: boolean): void {
  if (cards.has(alert.id)) return;
  const li = addCard(alert, eventId);
  if (!live) return;
  if (alert.priority === 'flash') li.classList.add('arrived');
  notify(alert);
}

function onUpdate({ alert, eventId }: UpdateFrame): void {
  let li = cards.get(alert.id);
  if (!li) li = addCard(alert, eventId);
  else if (stale(li, eventId)) return;
  renderBody(li, alert);
  li.dataset.eventId = eventId;
  li.classList.add('is-corrected');
  const tag = $('.corrected', li);
  tag.hidden = false;
  tag.textContent = `corrected ${clock(alert.updatedAt)}`.trim();
}

function onRetract({ id, reason, eventId }: RetractFrame): void {
  const li = cards.get(id);
  if (!li || li.classList.contains('is-retracted')) return;
  li.dataset.eventId = eventId;
  li.classList.add('is-retracted');
  const r = $('.retraction', li);
  r.hidden = false;
  r.replaceChildren(el('strong', { text: 'Retracted: ' }), reason);
}

function apply(f: EventFrame, live: boolean): void {
  if (f.type === 'alert') onAlert(f, live);
  else if (f.type === 'update') onUpdate(f);
  else onRetract(f);
}

/**
 * The newest alerts of the page's topics, from GET /v1/feed: applied in feed
 * order, keeping at most `keep` cards from them. Resolves with the feed
 * position the answer ends at (undefined when it could not be read).
 */
async function catchUp(topics: string[], keep: number): Promise<string | undefined> {
  const q = new URLSearchParams({ last: String(BACKLOG_EVENTS) });
  if (topics.length) q.set('topics', topics.join(','));
  let body: { events: EventFrame[]; next: string | null };
  try {
    const res = await fetch(`/v1/feed?${q}`, { headers: { Accept: 'application/json' } });
    if (!res.ok) return undefined;
    body = (await res.json()) as typeof body;
  } catch {
    return undefined;
  }
  // Alerts this answer brings in (a retraction of one not shown brings none).
  const fresh = new Set<string>();
  for (const f of body.events) {
    const id = f.type === 'retract' ? f.id : f.alert.id;
    if (!cards.has(id)) fresh.add(id);
    apply(f, false);
  }
  // Only the newest `keep` of the alerts this answer brought in stay.
  const added = [...fresh]
    .flatMap((id) => cards.get(id) ?? [])
    .sort((a, b) => compareEventIds(b.dataset.order!, a.dataset.order!));
  for (const li of added.slice(keep)) {
    cards.delete(li.dataset.alertId!);
    li.remove();
  }
  if (cards.size === 0) empty.hidden = false;
  return body.next ?? undefined;
}

const client = new FlashwireClient({
  topics: initialTopics,
  transport: forced === 'sse' || forced === 'websocket' ? forced : 'auto',
  ack: true,
});

client.on('alert', (f) => apply(f, true));
client.on('update', (f) => apply(f, true));
client.on('retract', (f) => apply(f, true));

// The stream could not resume from where this page was: it is live again
// from the feed's end, and the page fetches what it may have missed.
let catchingUp: Promise<void> | undefined;
client.on('resync', () => {
  catchingUp ??= catchUp(client.topics, BACKLOG_EVENTS)
    .then((next) => {
      if (next) client.advanceTo(next);
    })
    .finally(() => (catchingUp = undefined));
});

const STATE_TEXT: Record<StateEvent['state'], string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

client.on('state', (s) => {
  const pill = $('#state');
  pill.dataset.state = s.state;
  pill.dataset.transport = s.transport ?? '';
  let text = STATE_TEXT[s.state];
  if (s.state === 'open') text += s.transport === 'sse' ? ' · Server-Sent Events' : ' · WebSocket';
  if (s.state === 'reconnecting' && s.delayMs !== undefined) text = `Reconnecting in ${Math.max(1, Math.round(s.delayMs / 1000))} s…`;
  if (s.state === 'closed' && s.reason) text += ` (${s.reason})`;
  $('.label', pill).textContent = text;
});

client.on('welcome', (w) => {
  $('#subscribed').textContent = w.topics.includes('*') ? 'every public topic' : w.topics.join(', ');
});

client.on('error', (e) => {
  const note = $('#notice');
  note.hidden = false;
  note.textContent = e.message;
});

// ---- subscription form ----
const topicsInput = $<HTMLInputElement>('#topics');
topicsInput.value = initialTopics.join(', ');
$<HTMLFormElement>('#subscribe').addEventListener('submit', (e) => {
  e.preventDefault();
  const next = topicsInput.value.split(',').map((t) => t.trim()).filter(Boolean);
  const now = client.topics;
  client.unsubscribe(now.filter((t) => !next.includes(t)));
  client.subscribe(next.filter((t) => !now.includes(t)));
  $('#subscribed').textContent = next.length ? next.join(', ') : 'every public topic';
  const u = new URL(location.href);
  if (next.length) u.searchParams.set('topics', next.join(','));
  else u.searchParams.delete('topics');
  history.replaceState(null, '', u);
});

// ---- desktop notifications, only after the reader asks for them ----
const notifyButton = $<HTMLButtonElement>('#notify');
function renderNotify(): void {
  if (typeof Notification === 'undefined') {
    notifyButton.hidden = true;
    return;
  }
  const p = Notification.permission;
  notifyButton.textContent = p === 'granted' ? 'Notifications on' : p === 'denied' ? 'Notifications blocked' : 'Enable notifications';
  notifyButton.disabled = p !== 'default';
}
notifyButton.addEventListener('click', () => void Notification.requestPermission().then(renderNotify));
renderNotify();

function notify(a: AlertPayload): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (!document.hidden && a.priority !== 'flash') return;
  // Notification text is plain text by definition; no markup is interpreted.
  new Notification(`${a.priority.toUpperCase()}: ${a.headline}`, { body: a.summary ?? a.topics.join(', '), tag: a.id });
}

// ---- alerts with the tab closed (Web Push), only after the reader asks ----
setupPushOffer({ button: $<HTMLButtonElement>('#push-offer'), status: $('#push-status'), topics: () => client.topics });

// Tests and curious readers can reach the client from the console.
(window as unknown as { flashwire: FlashwireClient }).flashwire = client;
// The newest alerts first, then live from where that answer ends.
void catchUp(initialTopics, BACKLOG_ALERTS).then((next) => {
  if (next) client.advanceTo(next);
  client.connect();
});
