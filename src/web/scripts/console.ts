/**
 * The newsroom console (/console): compose and send an alert, watch its
 * delivery report fill in, correct it and retract it. Validation errors
 * from the API (422 `errors[{path,message}]`) are shown beside each field.
 */
import { $, clock, el } from './dom';
import './console-webhooks';

interface FieldError {
  path: string;
  message: string;
}
interface Problem {
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
}
interface Report {
  acceptedAt: string;
  sentAt: string | null;
  deliveries: number;
  receipts: number;
  feedToLastWriteMs: { p50: number; p90: number; p99: number; max: number } | null;
}
interface Alert {
  id: string;
  headline: string;
  summary?: string;
  url?: string;
  topics: string[];
  priority: string;
  status: string;
  sendAt?: string;
  sentAt?: string;
  eventId?: string;
  report: Report;
}

const KEY_STORE = 'flashwire.key';
const keyInput = $<HTMLInputElement>('#key');
keyInput.value = sessionStorage.getItem(KEY_STORE) ?? '';
keyInput.addEventListener('change', () => sessionStorage.setItem(KEY_STORE, keyInput.value.trim()));

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const key = keyInput.value.trim();
  const headers: Record<string, string> = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure(0, { detail: 'the service cannot be reached' });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { detail: text };
  }
  if (!res.ok) throw new ApiFailure(res.status, (parsed ?? {}) as Problem);
  return parsed as T;
}

/** Writes each API field error next to the field it names; returns the ones no field took. */
function showFieldErrors(form: HTMLFormElement, errors: FieldError[]): FieldError[] {
  const leftover: FieldError[] = [];
  for (const e of errors) {
    const field = e.path.split('.')[0] ?? '';
    const slot = form.querySelector<HTMLElement>(`.field-error[data-for="${CSS.escape(field)}"]`);
    if (!slot) {
      leftover.push(e);
      continue;
    }
    const input = form.querySelector<HTMLElement>(`[name="${CSS.escape(field)}"]`);
    input?.setAttribute('aria-invalid', 'true');
    slot.hidden = false;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${e.message}` : e.message;
  }
  return leftover;
}

function clearErrors(form: HTMLFormElement): void {
  for (const s of form.querySelectorAll<HTMLElement>('.field-error')) {
    s.textContent = '';
    s.hidden = true;
  }
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  const msg = form.querySelector<HTMLElement>('.form-message');
  if (msg) {
    msg.textContent = '';
    msg.hidden = true;
  }
}

function formMessage(form: HTMLFormElement, text: string, kind: 'error' | 'ok'): void {
  const msg = $('.form-message', form);
  msg.hidden = false;
  msg.dataset.kind = kind;
  msg.textContent = text;
}

function failureText(err: unknown): string {
  if (!(err instanceof ApiFailure)) return String(err);
  if (err.status === 401) return 'The key was refused: enter a publish key above.';
  if (err.status === 403) return 'This key may not publish.';
  return err.message;
}

async function submit(form: HTMLFormElement, run: () => Promise<void>): Promise<void> {
  clearErrors(form);
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  if (button) button.disabled = true;
  try {
    await run();
  } catch (err) {
    const leftover = err instanceof ApiFailure && err.problem.errors ? showFieldErrors(form, err.problem.errors) : [];
    const extra = leftover.map((e) => `${e.path || 'body'} ${e.message}`).join('; ');
    formMessage(form, err instanceof ApiFailure && err.problem.errors ? `Please fix the marked fields.${extra ? ' ' + extra : ''}` : failureText(err), 'error');
  } finally {
    if (button) button.disabled = false;
  }
}

function text(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
}

// ---- compose ----
const compose = $<HTMLFormElement>('#compose');
const when = () => (compose.elements.namedItem('when') as RadioNodeList).value;
compose.addEventListener('change', () => {
  $<HTMLInputElement>('#sendAt').disabled = when() !== 'at';
});
const headlineInput = $<HTMLInputElement>('#headline');
headlineInput.addEventListener('input', () => {
  $('#headline-count').textContent = `${[...headlineInput.value.trim()].length}/200`;
});

compose.addEventListener('submit', (e) => {
  e.preventDefault();
  void submit(compose, async () => {
    const body: Record<string, unknown> = {
      headline: text(compose, 'headline'),
      topics: text(compose, 'topics').split(',').map((t) => t.trim()).filter(Boolean),
      priority: text(compose, 'priority'),
    };
    const summary = text(compose, 'summary');
    const url = text(compose, 'url');
    if (summary) body.summary = summary;
    if (url) body.url = url;
    if (when() === 'at') {
      const local = text(compose, 'sendAt');
      // datetime-local has no zone: it is the newsroom's local time.
      const at = local ? new Date(local) : undefined;
      body.sendAt = at && !Number.isNaN(at.getTime()) ? at.toISOString() : local;
    }
    const alert = await api<Alert>('POST', '/v1/alerts', body);
    formMessage(compose, `Accepted: ${alert.id} (${alert.status})`, 'ok');
    track(alert);
  });
});

// ---- the sent list and the selected alert ----
const sent = new Map<string, Alert>();
let selected: string | undefined;
let poll: ReturnType<typeof setTimeout> | undefined;

function track(alert: Alert): void {
  sent.set(alert.id, alert);
  renderSent();
  select(alert.id);
}

function renderSent(): void {
  const ul = $('#sent');
  ul.replaceChildren(
    ...[...sent.values()].reverse().map((a) =>
      el(
        'li',
        {},
        el(
          'button',
          { type: 'button', class: `sent-item p-${a.priority}`, 'data-id': a.id, 'aria-current': String(a.id === selected) },
          el('span', { class: 'badge', text: a.priority }),
          el('span', { class: `status s-${a.status}`, text: a.status }),
          el('span', { class: 'sent-headline', text: a.headline }),
        ),
      ),
    ),
  );
  $('#sent-empty').hidden = sent.size > 0;
}

$('#sent').addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-id]');
  if (b?.dataset.id) select(b.dataset.id);
});

$<HTMLFormElement>('#lookup').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = e.currentTarget as HTMLFormElement;
  void submit(form, async () => {
    const id = text(form, 'id');
    if (!id) return;
    track(await api<Alert>('GET', `/v1/alerts/${encodeURIComponent(id)}`));
  });
});

function select(id: string): void {
  selected = id;
  const alert = sent.get(id);
  const panel = $('#detail');
  panel.hidden = false;
  if (alert) {
    renderDetail(alert);
    fillCorrection(alert);
  }
  renderSent();
  if (poll) clearTimeout(poll);
  void refresh(id);
}

async function refresh(id: string): Promise<void> {
  try {
    const alert = await api<Alert>('GET', `/v1/alerts/${encodeURIComponent(id)}`);
    sent.set(id, alert);
    if (selected === id) renderDetail(alert);
    renderSent();
  } catch {
    // A blip while polling: the next poll tries again.
  }
  // The report fills in over the first seconds; keep watching while selected.
  if (selected === id) poll = setTimeout(() => void refresh(id), 1000);
}

function row(label: string, value: string, name: string): HTMLElement {
  return el('div', { class: 'row' }, el('dt', { text: label }), el('dd', { 'data-field': name, text: value }));
}

function renderDetail(a: Alert): void {
  $('#detail-headline').textContent = a.headline;
  const badge = $('#detail-priority');
  badge.textContent = a.priority;
  badge.className = `badge p-${a.priority}`;
  const r = a.report;
  const lat = r.feedToLastWriteMs;
  $('#report').replaceChildren(
    row('Status', a.status, 'status'),
    row('Alert id', a.id, 'id'),
    row('Topics', a.topics.join(', '), 'topics'),
    row('Accepted', clock(r.acceptedAt), 'acceptedAt'),
    row('Scheduled for', a.sendAt ? new Date(a.sendAt).toLocaleString() : '—', 'sendAt'),
    row('Sent', r.sentAt ? clock(r.sentAt) : '—', 'sentAt'),
    row('Event id', a.eventId ?? '—', 'eventId'),
    row('Deliveries', String(r.deliveries), 'deliveries'),
    row('Receipts', String(r.receipts), 'receipts'),
    row('Feed → last write', lat ? `p50 ${lat.p50} ms · p99 ${lat.p99} ms · max ${lat.max} ms` : '—', 'latency'),
  );
  const closed = a.status === 'retracted' || a.status === 'expired';
  for (const b of document.querySelectorAll<HTMLButtonElement>('#correct button, #retract button')) b.disabled = closed;
}

// ---- correct and retract ----
const correct = $<HTMLFormElement>('#correct');
const retract = $<HTMLFormElement>('#retract');

function fillCorrection(a: Alert): void {
  clearErrors(correct);
  clearErrors(retract);
  (correct.elements.namedItem('headline') as HTMLInputElement).value = a.headline;
  (correct.elements.namedItem('summary') as HTMLTextAreaElement).value = a.summary ?? '';
  (correct.elements.namedItem('url') as HTMLInputElement).value = a.url ?? '';
  (retract.elements.namedItem('reason') as HTMLInputElement).value = '';
}

correct.addEventListener('submit', (e) => {
  e.preventDefault();
  const id = selected;
  const before = id ? sent.get(id) : undefined;
  if (!id || !before) return;
  void submit(correct, async () => {
    // Only what changed is sent: a correction names the fields it corrects.
    const patch: Record<string, string> = {};
    for (const f of ['headline', 'summary', 'url'] as const) {
      const v = text(correct, f);
      if (v !== (before[f] ?? '')) patch[f] = v;
    }
    if (Object.keys(patch).length === 0) return formMessage(correct, 'Nothing changed.', 'error');
    const alert = await api<Alert>('PATCH', `/v1/alerts/${encodeURIComponent(id)}`, patch);
    sent.set(id, alert);
    renderDetail(alert);
    renderSent();
    formMessage(correct, 'Correction sent.', 'ok');
  });
});

retract.addEventListener('submit', (e) => {
  e.preventDefault();
  const id = selected;
  if (!id) return;
  void submit(retract, async () => {
    const alert = await api<Alert>('POST', `/v1/alerts/${encodeURIComponent(id)}/retract`, { reason: text(retract, 'reason') });
    sent.set(id, alert);
    renderDetail(alert);
    renderSent();
    formMessage(retract, 'Retracted.', 'ok');
  });
});
