/**
 * The reader page (/): a live ticker of alerts by topic. Corrections are
 * applied in place, retractions struck through with their reason.
 */
import { FlashwireClient, type AlertPayload, type StateEvent } from '../../clients/browser/flashwire-client';
import { $, clock, el, safeHref } from './dom';
import { setupPushOffer } from './push-offer';

const params = new URLSearchParams(location.search);
const initialTopics = (params.get('topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
const forced = params.get('transport');

const client = new FlashwireClient({
  topics: initialTopics,
  transport: forced === 'sse' || forced === 'websocket' ? forced : 'auto',
  ack: true,
});

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
    { class: `alert p-${a.priority}`, 'data-alert-id': a.id, 'data-event-id': eventId, 'data-topics': a.topics.join(' ') },
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

client.on('alert', ({ alert, eventId }) => {
  if (cards.has(alert.id)) return;
  const li = card(alert, eventId);
  cards.set(alert.id, li);
  addTopics(alert.topics);
  show(li);
  list.prepend(li);
  empty.hidden = true;
  if (alert.priority === 'flash') li.classList.add('arrived');
  notify(alert);
});

client.on('update', ({ alert, eventId }) => {
  let li = cards.get(alert.id);
  if (!li) {
    li = card(alert, eventId);
    cards.set(alert.id, li);
    addTopics(alert.topics);
    show(li);
    list.prepend(li);
    empty.hidden = true;
  }
  renderBody(li, alert);
  li.dataset.eventId = eventId;
  li.classList.add('is-corrected');
  const tag = $('.corrected', li);
  tag.hidden = false;
  tag.textContent = `corrected ${clock(alert.updatedAt)}`.trim();
});

client.on('retract', ({ id, reason, eventId }) => {
  const li = cards.get(id);
  if (!li) return;
  li.dataset.eventId = eventId;
  li.classList.add('is-retracted');
  const r = $('.retraction', li);
  r.hidden = false;
  r.replaceChildren(el('strong', { text: 'Retracted: ' }), reason);
});

client.on('resync', ({ reason }) => {
  const banner = $('#resync');
  banner.hidden = false;
  $('.why', banner).textContent = reason;
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
client.connect();
