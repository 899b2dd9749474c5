/**
 * The console's webhooks section: list endpoints with status and lag, add
 * one (its secret shown once), remove one, send a test alert to its
 * topics (with the publish key above), and see its last attempts. It uses
 * its own admin key, kept for the browser session only.
 */
import { $, clock, el } from './dom';

interface Attempt {
  eventId: string;
  at: string;
  status?: number;
  error?: string;
  ms: number;
}
interface Webhook {
  id: string;
  url: string;
  topics: string[];
  status: string;
  cursor: string;
  lag: { events: number; seconds: number };
  attempts?: Attempt[];
  secret?: string;
}
interface Problem {
  detail?: string;
  title?: string;
  errors?: { path: string; message: string }[];
}

const ADMIN_STORE = 'flashwire.adminKey';
const adminInput = $<HTMLInputElement>('#admin-key');
adminInput.value = sessionStorage.getItem(ADMIN_STORE) ?? '';
let selected: string | undefined;

async function call<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const p = (parsed ?? {}) as Problem;
    const err = new Error(res.status === 401 ? 'The key was refused.' : res.status === 403 ? 'This key lacks the needed scope.' : (p.detail ?? p.title ?? `HTTP ${res.status}`)) as Error & { problem?: Problem };
    err.problem = p;
    throw err;
  }
  return parsed as T;
}
const admin = <T>(method: string, path: string, body?: unknown) => call<T>(adminInput.value.trim(), method, path, body);

function message(node: HTMLElement, text: string, kind: 'ok' | 'error'): void {
  node.hidden = !text;
  node.dataset.kind = kind;
  node.textContent = text;
}

function lagText(w: Webhook): string {
  return w.lag.events ? `${w.lag.events} events · ${w.lag.seconds} s` : 'caught up';
}

async function load(): Promise<void> {
  const authMsg = $('.form-message', $('#wh-auth'));
  try {
    const { webhooks } = await admin<{ webhooks: Webhook[] }>('GET', '/v1/webhooks');
    message(authMsg, '', 'ok');
    const body = $('#wh-list');
    body.replaceChildren(
      ...webhooks.map((w) =>
        el(
          'tr',
          { 'data-id': w.id, 'aria-current': w.id === selected ? 'true' : undefined },
          el('td', { text: w.url }),
          el('td', { text: w.topics.join(', ') }),
          el('td', {}, el('span', { class: 'wh-status', 'data-status': w.status, text: w.status })),
          el('td', { class: 'wh-lag', text: lagText(w) }),
          el('td', {}, el('button', { type: 'button', 'data-open': w.id, text: 'Details' })),
        ),
      ),
    );
    $('#wh-empty').hidden = webhooks.length > 0;
    if (selected && !webhooks.some((w) => w.id === selected)) showDetail(undefined);
  } catch (err) {
    message(authMsg, (err as Error).message, 'error');
  }
}

function showDetail(w: Webhook | undefined): void {
  selected = w?.id;
  const detail = $('#wh-detail');
  detail.hidden = !w;
  if (!w) return;
  $('#wh-detail-url').textContent = w.url;
  const attempts = w.attempts ?? [];
  $('#wh-attempts').replaceChildren(
    ...attempts.map((a) => el('tr', {}, el('td', { text: clock(a.at) }), el('td', { text: a.eventId }), el('td', { class: 'wh-result', text: a.status !== undefined ? String(a.status) : (a.error ?? '') }), el('td', { text: String(a.ms) }))),
  );
  $('#wh-attempts-empty').hidden = attempts.length > 0;
}

async function open(id: string): Promise<void> {
  try {
    showDetail(await admin<Webhook>('GET', `/v1/webhooks/${encodeURIComponent(id)}`));
  } catch (err) {
    message($('#wh-detail-message'), (err as Error).message, 'error');
  }
  await load();
}

$<HTMLFormElement>('#wh-auth').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(ADMIN_STORE, adminInput.value.trim());
  void load();
});

$('#wh-list').addEventListener('click', (e) => {
  const id = (e.target as HTMLElement).closest<HTMLElement>('[data-open]')?.dataset.open;
  if (id) void open(id);
});

const addForm = $<HTMLFormElement>('#wh-add');
addForm.addEventListener('submit', (e) => {
  e.preventDefault();
  for (const s of addForm.querySelectorAll<HTMLElement>('.field-error')) s.hidden = true;
  const url = $<HTMLInputElement>('#wh-url').value.trim();
  const topics = $<HTMLInputElement>('#wh-topics').value.split(',').map((t) => t.trim()).filter(Boolean);
  const msg = $('.form-message', addForm);
  admin<Webhook>('POST', '/v1/webhooks', { url, topics }).then(
    async (w) => {
      message(msg, `Added. Its signing secret is shown only now:`, 'ok');
      const secret = $('#wh-secret');
      secret.hidden = false;
      secret.textContent = w.secret ?? '';
      addForm.reset();
      await open(w.id);
    },
    (err: Error & { problem?: Problem }) => {
      for (const fe of err.problem?.errors ?? []) {
        const slot = addForm.querySelector<HTMLElement>(`.field-error[data-for="${CSS.escape(fe.path.split('.')[0] ?? '')}"]`);
        if (slot) {
          slot.hidden = false;
          slot.textContent = fe.message;
        }
      }
      message(msg, err.problem?.errors ? 'Please fix the marked fields.' : err.message, 'error');
    },
  );
});

$('#wh-remove').addEventListener('click', () => {
  const id = selected;
  if (!id) return;
  admin('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`).then(
    () => {
      showDetail(undefined);
      void load();
    },
    (err: Error) => message($('#wh-detail-message'), err.message, 'error'),
  );
});

$('#wh-test').addEventListener('click', () => {
  const id = selected;
  if (!id) return;
  const out = $('#wh-detail-message');
  void (async () => {
    try {
      const w = await admin<Webhook>('GET', `/v1/webhooks/${encodeURIComponent(id)}`);
      // A routine alert on the endpoint's first topic (any public one for `*`), gone after ten minutes.
      const topic = w.topics.find((t) => t !== '*') ?? 'test';
      const publishKey = $<HTMLInputElement>('#key').value.trim();
      const a = await call<{ id: string }>(publishKey, 'POST', '/v1/alerts', {
        headline: `Webhook test for ${w.url}`.slice(0, 200),
        topics: [topic],
        priority: 'routine',
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
      });
      message(out, `Test alert ${a.id} sent on ${topic}.`, 'ok');
      // Show its attempt once the endpoint has been called.
      for (let i = 0; i < 20 && selected === id; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await admin<Webhook>('GET', `/v1/webhooks/${encodeURIComponent(id)}`);
        showDetail(now);
        if ((now.attempts?.length ?? 0) > (w.attempts?.length ?? 0)) break;
      }
      await load();
    } catch (err) {
      message(out, `${(err as Error).message} (a test alert needs the publish key above)`, 'error');
    }
  })();
});

if (adminInput.value) void load();
setInterval(() => {
  if (adminInput.value.trim()) void load();
}, 5000);
