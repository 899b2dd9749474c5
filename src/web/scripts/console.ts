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
  reach?: { readersAtSend: number; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null } | null;
}
interface AudienceCount {
  readers: number;
  websocket: number;
  sse: number;
  webhooks: number;
  push: number;
  at: string;
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
  publishedBy?: string;
  createdAt?: string;
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

async function api<T>(method: string, path: string, body?: unknown, keyOverride?: string): Promise<T> {
  const key = keyOverride ?? keyInput.value.trim();
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

/** The alert as the compose form describes it. */
function composed(): Record<string, unknown> {
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
  return body;
}

function topicList(): string[] {
  return text(compose, 'topics').split(',').map((t) => t.trim()).filter(Boolean);
}

function reachText(a: AudienceCount): string {
  const n = (x: number, one: string, many: string) => `${x.toLocaleString()} ${x === 1 ? one : many}`;
  const extra = [a.webhooks ? n(a.webhooks, 'webhook', 'webhooks') : '', a.push ? n(a.push, 'push subscription', 'push subscriptions') : ''].filter(Boolean);
  return `will reach about ${n(a.readers, 'reader', 'readers')} now${extra.length ? ` (plus ${extra.join(' and ')})` : ''}`;
}

// ---- audience preview: as topics are typed ----
const audienceLine = $('#audience');
let audienceTimer: ReturnType<typeof setTimeout> | undefined;
let audienceAsked = 0;

async function previewAudience(): Promise<void> {
  const topics = topicList();
  const ask = ++audienceAsked;
  if (topics.length === 0 || !keyInput.value.trim()) {
    audienceLine.textContent = '';
    audienceLine.removeAttribute('data-readers');
    return;
  }
  try {
    const a = await api<AudienceCount>('GET', `/v1/audience?topics=${encodeURIComponent(topics.join(','))}`);
    if (ask !== audienceAsked) return;
    audienceLine.textContent = reachText(a);
    audienceLine.dataset.readers = String(a.readers);
    audienceLine.dataset.kind = 'ok';
  } catch (err) {
    if (ask !== audienceAsked) return;
    audienceLine.removeAttribute('data-readers');
    audienceLine.dataset.kind = 'error';
    audienceLine.textContent = err instanceof ApiFailure && err.status === 422 ? 'not valid topics yet' : failureText(err);
  }
}

/** Asks soon after typing stops, then every few seconds: readers come and go. */
function scheduleAudience(delayMs = 250): void {
  if (audienceTimer) clearTimeout(audienceTimer);
  audienceTimer = setTimeout(() => {
    void previewAudience().then(() => {
      if (topicList().length > 0) scheduleAudience(3000);
    });
  }, delayMs);
}
$('#topics').addEventListener('input', () => scheduleAudience());
keyInput.addEventListener('change', () => scheduleAudience());

// ---- check: a dry run ----
$<HTMLButtonElement>('#check').addEventListener('click', () => {
  void submit(compose, async () => {
    const res = await api<{ valid: boolean; audience: AudienceCount }>('POST', '/v1/alerts?dryRun=true', composed());
    formMessage(compose, `Valid: ${reachText(res.audience)}. Nothing was sent.`, 'ok');
  });
});

compose.addEventListener('submit', (e) => {
  e.preventDefault();
  void submit(compose, async () => {
    const alert = await api<Alert>('POST', '/v1/alerts', composed());
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
    row('Reach', reachRow(r.reach), 'reach'),
  );
  const closed = a.status === 'retracted' || a.status === 'expired' || a.status === 'rejected';
  for (const b of document.querySelectorAll<HTMLButtonElement>('#correct button, #retract button')) b.disabled = closed;
}

function reachRow(reach: Report['reach']): string {
  if (!reach) return '—';
  if (reach.readersAtSend === 0) return 'nobody was connected at send';
  return `${reach.readersAtSend} readers at send · 50% in ${reach.p50Ms} ms · 90% in ${reach.p90Ms} ms · 99% in ${reach.p99Ms} ms`;
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

// ---- the approval queue: alerts waiting for a second editor ----
const APPROVER_STORE = 'flashwire.approverKey';
const approverInput = $<HTMLInputElement>('#approver-key');
approverInput.value = sessionStorage.getItem(APPROVER_STORE) ?? '';
const pendingList = $('#pending');
const pendingMessage = $('#pending-message');
let pendingTimer: ReturnType<typeof setTimeout> | undefined;

function approverKey(): string {
  return approverInput.value.trim();
}

function pendingMessageText(text: string, kind: 'error' | 'ok'): void {
  pendingMessage.hidden = !text;
  pendingMessage.dataset.kind = kind;
  pendingMessage.textContent = text;
}

function renderPending(alerts: Alert[]): void {
  pendingList.replaceChildren(
    ...alerts.map((a) =>
      el(
        'li',
        { class: `pending-item p-${a.priority}`, 'data-id': a.id },
        el(
          'div',
          { class: 'pending-head' },
          el('span', { class: 'badge', text: a.priority }),
          el('span', { class: 'sent-headline', text: a.headline }),
        ),
        el('p', { class: 'hint', text: `${a.topics.join(', ')} · by ${a.publishedBy ?? '?'}${a.sendAt ? ` · for ${new Date(a.sendAt).toLocaleString()}` : ''}` }),
        el(
          'div',
          { class: 'pending-actions' },
          el('button', { type: 'button', class: 'primary', 'data-action': 'approve', text: 'Approve' }),
          el('input', { name: 'reason', placeholder: 'reason to reject', 'aria-label': 'Reason to reject', autocomplete: 'off' }),
          el('button', { type: 'button', class: 'danger', 'data-action': 'reject', text: 'Reject' }),
        ),
      ),
    ),
  );
  $('#pending-empty').hidden = alerts.length > 0;
}

/** Reads the alerts waiting for approval (GET /v1/alerts?status=pending_approval) and polls while a key is set. */
async function refreshPending(): Promise<void> {
  if (pendingTimer) clearTimeout(pendingTimer);
  if (!approverKey()) {
    renderPending([]);
    return;
  }
  try {
    const page = await api<{ alerts: Alert[]; next: string | null }>('GET', '/v1/alerts?status=pending_approval&limit=100', undefined, approverKey());
    renderPending(page.alerts.filter((a) => a.status === 'pending_approval'));
  } catch (err) {
    pendingMessageText(err instanceof ApiFailure && err.status === 401 ? 'The approver key was refused.' : failureText(err), 'error');
  }
  pendingTimer = setTimeout(() => void refreshPending(), 2000);
}

approverInput.addEventListener('change', () => {
  sessionStorage.setItem(APPROVER_STORE, approverKey());
  pendingMessageText('', 'ok');
  void refreshPending();
});

pendingList.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
  const item = button?.closest<HTMLElement>('li[data-id]');
  const id = item?.dataset.id;
  if (!button || !item || !id) return;
  const action = button.dataset.action;
  const reason = item.querySelector<HTMLInputElement>('input[name="reason"]')?.value.trim() ?? '';
  if (action === 'reject' && !reason) {
    pendingMessageText('Give a reason to reject.', 'error');
    return;
  }
  button.disabled = true;
  void (async () => {
    try {
      const alert = await api<Alert>('POST', `/v1/alerts/${encodeURIComponent(id)}/${action === 'approve' ? 'approve' : 'reject'}`, action === 'reject' ? { reason } : undefined, approverKey());
      pendingMessageText(action === 'approve' ? `Approved: ${alert.id} (${alert.status})` : `Rejected: ${alert.id}`, 'ok');
      item.remove();
      $('#pending-empty').hidden = pendingList.children.length > 0;
      if (sent.has(alert.id)) {
        sent.set(alert.id, alert);
        renderSent();
      }
    } catch (err) {
      button.disabled = false;
      if (err instanceof ApiFailure && err.status === 403) pendingMessageText(err.problem.detail ?? 'This key may not approve.', 'error');
      else if (err instanceof ApiFailure && err.status === 409) pendingMessageText(`No longer waiting: ${err.message}`, 'error');
      else pendingMessageText(failureText(err), 'error');
      void refreshPending();
    }
  })();
});

void refreshPending();
