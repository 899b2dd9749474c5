/**
 * Two-person approval (the contract's "Approval and audience"): alerts of the
 * priorities in FLASHWIRE_APPROVAL_PRIORITIES wait as `pending_approval`
 * until a second editor's key approves them; rejection, the deadline job,
 * the 403 for the publishing key itself, 409 for anything not pending, the
 * audit trail, embargoes and retractions of pending alerts.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import IORedis from 'ioredis';
import { Queue } from 'bullmq';
import { loadSettings } from '../../config/settings';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { QUEUE_NAME } from '../../src/queue/alert-queue';
import { AlertChanges } from '../../src/store/alert-changes';
import { APPROVAL_TIMED_OUT, runApprovalTimeout } from '../../workers/fanout.worker';
import { eventually, getJson, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { testEnv, uniquePrefix } from '../helpers/settings';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function post(url: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('two-person approval', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let client: IORedis;
  let queue: Queue;
  let queueConnection: IORedis;
  let keys: Keys;
  let changes: AlertChanges;
  const prefix = uniquePrefix();
  const env = { FLASHWIRE_PREFIX: prefix, FLASHWIRE_APPROVAL_PRIORITIES: 'flash,bulletin', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' };
  let desk: string; // publish + approve: may approve others' alerts, never its own
  let editor: string; // approve only
  let reader: TestReader;
  let markers = 0;

  /** A routine alert (no approval) on `topic`: once it arrived, nothing posted before it is still on its way. */
  async function marker(topic = 'world'): Promise<string> {
    const m = await postAlert(svc.url, { headline: `marker ${++markers}`, topics: [topic], priority: 'routine' });
    expect(m.status).toBe(202);
    expect(m.body.status).toBe('queued');
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === m.body.id, 20_000);
    return m.body.id;
  }

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, env);
    client = new IORedis(redis.url);
    keys = new Keys(prefix);
    const store = new ApiKeyStore(client, keys);
    desk = (await store.create('desk', ['publish', 'approve'])).secret;
    editor = (await store.create('editor', ['approve'])).secret;
    queueConnection = new IORedis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix: keys.bullPrefix });
    changes = new AlertChanges(client, keys, { maxEntries: 1000, retentionMs: 3600_000 });
    reader = await openReader(svc.wsUrl, { topics: 'world' });
  });
  afterAll(async () => {
    reader?.close();
    await queue?.close();
    queueConnection?.disconnect();
    client?.disconnect();
    await svc?.stop();
    await redis?.cleanup();
  });

  it('holds a flash alert as pending_approval until a second editor approves it; the publishing key itself gets a 403', async () => {
    const posted = await postAlert(svc.url, { headline: 'Needs a second pair of eyes', topics: ['world'], priority: 'flash' }, { Authorization: `Bearer ${desk}` });
    expect(posted.status).toBe(202);
    expect(posted.body.status).toBe('pending_approval');
    const id = posted.body.id as string;
    expect((await getJson(`${svc.url}/v1/alerts/${id}`)).body.status).toBe('pending_approval');
    // Its deadline waits in the queue as a delayed job: 900 s by default.
    const deadline = await queue.getJob(`${id}-approval`);
    expect(deadline?.name).toBe('approval-timeout');
    expect(deadline?.opts.delay).toBeGreaterThan(890_000);

    // Not sent: a later alert arrives, this one did not.
    await marker();
    expect(reader.frames.some((f) => f.alert?.id === id)).toBe(false);

    // The key that published it cannot approve it, even holding the scope.
    const self = await post(svc.url, `/v1/alerts/${id}/approve`, desk);
    expect(self.status).toBe(403);
    expect(self.body.detail).toMatch(/second editor/);
    // A key without the approve scope cannot either.
    const noScope = await post(svc.url, `/v1/alerts/${id}/approve`, 'test-publish-key-0123456789abcdef');
    expect(noScope.status).toBe(403);
    expect(noScope.body.detail).toMatch(/approve/);

    const ok = await post(svc.url, `/v1/alerts/${id}/approve`, editor);
    expect(ok.status).toBe(200);
    expect(['queued', 'sent']).toContain(ok.body.status);
    const frame = await reader.waitFor((f) => f.type === 'alert' && f.alert.id === id, 20_000);
    expect(frame.alert.headline).toBe('Needs a second pair of eyes');
    const after = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
    expect(after.status).toBe('sent');
    expect(after.audit.map((a: any) => [a.action, a.by])).toEqual([
      ['created', 'desk'],
      ['approved', 'editor'],
    ]);

    // Approving or rejecting what is no longer pending is a conflict.
    expect((await post(svc.url, `/v1/alerts/${id}/approve`, editor)).status).toBe(409);
    expect((await post(svc.url, `/v1/alerts/${id}/reject`, editor, { reason: 'too late' })).status).toBe(409);
    // An alert that never needed approval cannot be approved either.
    const plain = await postAlert(svc.url, { headline: 'Routine, no approval', topics: ['world'], priority: 'routine' });
    expect((await post(svc.url, `/v1/alerts/${plain.body.id}/approve`, editor)).status).toBe(409);
    expect((await post(svc.url, `/v1/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve`, editor)).status).toBe(404);
  });

  it('rejects with a reason: never sent, recorded in the audit and the rejection', async () => {
    const posted = await postAlert(svc.url, { headline: 'Unconfirmed report', topics: ['world'], priority: 'bulletin' });
    expect(posted.body.status).toBe('pending_approval');
    const id = posted.body.id as string;
    const bad = await post(svc.url, `/v1/alerts/${id}/reject`, editor, { reason: '' });
    expect(bad.status).toBe(422);
    const res = await post(svc.url, `/v1/alerts/${id}/reject`, editor, { reason: 'Single anonymous source' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rejected');
    expect(res.body.rejection).toMatchObject({ reason: 'Single anonymous source', by: 'editor' });
    expect(res.body.audit.at(-1)).toMatchObject({ action: 'rejected', by: 'editor', reason: 'Single anonymous source' });
    expect((await post(svc.url, `/v1/alerts/${id}/approve`, editor)).status).toBe(409);
    expect((await post(svc.url, `/v1/alerts/${id}/reject`, editor, { reason: 'again' })).status).toBe(409);
    // A rejected alert is closed: no correction, no retraction.
    expect((await post(svc.url, `/v1/alerts/${id}/retract`, 'test-publish-key-0123456789abcdef', { reason: 'x' })).status).toBe(409);
    await marker();
    expect(reader.frames.some((f) => f.alert?.id === id)).toBe(false);
  });

  it('rejects with "approval timed out" when the deadline job runs on a still-pending alert', async () => {
    const posted = await postAlert(svc.url, { headline: 'Nobody looked at this', topics: ['world'], priority: 'flash' });
    const id = posted.body.id as string;
    const settings = loadSettings(testEnv(redis.url, env));
    // The deadline job's own handler, run now instead of in 900 s.
    const outcome = await runApprovalTimeout({ redis: client, keys, settings }, id, async () => {
      throw new Error('must not requeue a pending alert');
    });
    expect(outcome).toBe('rejected');
    const after = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
    expect(after.status).toBe('rejected');
    expect(after.rejection).toMatchObject({ reason: APPROVAL_TIMED_OUT, by: 'flashwire' });
    expect(after.audit.at(-1)).toMatchObject({ action: 'rejected', by: 'flashwire', reason: 'approval timed out' });
    // Running it again (a retried job) changes nothing.
    expect(await runApprovalTimeout({ redis: client, keys, settings }, id, async () => undefined)).toBe('not-pending');
    expect((await post(svc.url, `/v1/alerts/${id}/approve`, editor)).status).toBe(409);
  });

  it('the real worker runs the deadline job: promoted now instead of waiting 900 s, it rejects the pending alert', async () => {
    const posted = await postAlert(svc.url, { headline: 'Deadline through the queue', topics: ['world'], priority: 'flash' });
    const id = posted.body.id as string;
    const job = await queue.getJob(`${id}-approval`);
    expect(await job!.getState()).toBe('delayed');
    await job!.promote();
    const after = await eventually(async () => {
      const a = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
      return a.status === 'rejected' ? a : undefined;
    }, 20_000);
    expect(after.rejection).toMatchObject({ reason: 'approval timed out', by: 'flashwire' });
  });

  it('the deadline job queues an approved alert whose send job was lost', async () => {
    const posted = await postAlert(svc.url, { headline: 'Approved, then the API died', topics: ['world'], priority: 'flash' });
    const id = posted.body.id as string;
    // The approval's first step only, as if the request died before queueing the send.
    expect((await changes.approve(id, 'editor')).kind).toBe('done');
    const settings = loadSettings(testEnv(redis.url, env));
    const queued: string[] = [];
    const { enqueueSend } = await import('../../src/queue/alert-queue');
    const outcome = await runApprovalTimeout({ redis: client, keys, settings }, id, async (alertId, o) => {
      queued.push(alertId);
      await enqueueSend(queue, { alertId, priority: o.priority, delayMs: o.delayMs, attempts: 3 });
    });
    expect(outcome).toBe('resent');
    expect(queued).toEqual([id]);
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === id, 20_000);
  });

  it('an embargoed alert approved before its sendAt goes at sendAt', async () => {
    // Far enough ahead that the approval surely lands first, even on a loaded machine.
    const sendAt = new Date(Date.now() + 15_000);
    const posted = await postAlert(svc.url, { headline: 'Embargoed and approved', topics: ['world'], priority: 'flash', sendAt: sendAt.toISOString() });
    expect(posted.body.status).toBe('pending_approval');
    const id = posted.body.id as string;
    const ok = await post(svc.url, `/v1/alerts/${id}/approve`, editor);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('scheduled');
    const send = await queue.getJob(id);
    expect(send!.timestamp + (send!.opts.delay ?? 0)).toBeGreaterThanOrEqual(sendAt.getTime() - 5);
    const frame = await reader.waitFor((f) => f.type === 'alert' && f.alert.id === id, 45_000);
    expect(Date.parse(frame.alert.sentAt)).toBeGreaterThanOrEqual(sendAt.getTime());
  });

  it('a pending alert can be retracted: it is never sent and can no longer be approved', async () => {
    const posted = await postAlert(svc.url, { headline: 'Withdrawn by the desk', topics: ['world'], priority: 'flash' });
    const id = posted.body.id as string;
    const r = await post(svc.url, `/v1/alerts/${id}/retract`, 'test-publish-key-0123456789abcdef', { reason: 'Story spiked' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('retracted');
    expect((await post(svc.url, `/v1/alerts/${id}/approve`, editor)).status).toBe(409);
    const settings = loadSettings(testEnv(redis.url, env));
    expect(await runApprovalTimeout({ redis: client, keys, settings }, id, async () => undefined)).toBe('not-pending');
    await marker();
    expect(reader.frames.some((f) => f.alert?.id === id)).toBe(false);
    // No retract event for an alert readers never had.
    expect(reader.frames.some((f) => f.type === 'retract' && f.id === id)).toBe(false);
  });

  it('flashwire approve ID and flashwire reject ID --reason from the command line (npm run build first)', async () => {
    const a = await postAlert(svc.url, { headline: 'Approve me from the shell', topics: ['world'], priority: 'flash' });
    const b = await postAlert(svc.url, { headline: 'Reject me from the shell', topics: ['world'], priority: 'flash' });
    const approved = await cli(['--server', svc.url, 'approve', a.body.id, '--key', editor]);
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`^approved ${a.body.id} \\((queued|sent)\\)`));
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === a.body.id, 20_000);
    const again = await cli(['--server', svc.url, 'approve', a.body.id, '--key', editor]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/409/);
    const own = await cli(['--server', svc.url, 'approve', b.body.id, '--key', 'test-publish-key-0123456789abcdef']);
    expect(own.code).not.toBe(0);
    expect(own.stderr).toMatch(/403/);
    const rejected = await cli(['--server', svc.url, 'reject', b.body.id, '--reason', 'Not confirmed', '--key', editor]);
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toBe(`rejected ${b.body.id} (rejected): Not confirmed\n`);
    expect((await getJson(`${svc.url}/v1/alerts/${b.body.id}`)).body.rejection.reason).toBe('Not confirmed');
  });
});
