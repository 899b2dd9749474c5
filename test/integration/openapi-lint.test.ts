/**
 * The OpenAPI document lints clean under Redocly's recommended rules (run
 * offline on the generated document), and lists every status the service
 * really answers: each request below is made against a running service and
 * its status must be among the documented responses of its operation.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { buildOpenApi } from '../../src/spec-docs/openapi';
import { postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY } from '../helpers/settings';
import { createAdminKey } from '../helpers/webhooks';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };

describe('the OpenAPI document', () => {
  it('lints with 0 errors and 0 warnings under @redocly/cli lint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-openapi-'));
    try {
      const file = path.join(dir, 'openapi.json');
      fs.writeFileSync(file, JSON.stringify(buildOpenApi()));
      const cli = path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
      const out = await run(process.execPath, [cli, 'lint', file, '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'json'], {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        timeout: 120_000,
      }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const report = JSON.parse(out.stdout) as { totals: { errors: number; warnings: number }; problems: unknown[] };
      expect(report.problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives every operation but the health probes at least one 4xx', () => {
    const doc = buildOpenApi() as Doc;
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters' || p === '/healthz' || p === '/readyz') continue;
        if (p === '/v1/push/key') continue; // a public constant (the VAPID key): no input, no credential, so no 4xx to answer
        expect({ op: `${method} ${p}`, has4xx: Object.keys(op.responses ?? {}).some((s) => s.startsWith('4')) }).toEqual({ op: `${method} ${p}`, has4xx: true });
      }
    }
  });

  describe('against the service', () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let svc: Awaited<ReturnType<typeof startService>>;
    beforeAll(async () => {
      redis = await startRedis();
      svc = await startService(redis.url, { FLASHWIRE_METRICS_KEY: 'metrics-key-0123456789abcdef' });
    });
    afterAll(async () => {
      await svc?.stop();
      await redis?.cleanup();
    });

    it('documents every status it answers', async () => {
      const doc = buildOpenApi() as Doc;
      const id = (await postAlert(svc.url, { headline: 'Documented', topics: ['world'] })).body.id as string;
      const key = { Authorization: `Bearer ${PUBLISH_KEY}` };
      const json = { ...key, 'Content-Type': 'application/json' };
      const token = `Bearer ${SubscriberTokens.sign(JWT_SECRET, ['world'], 3600)}`;
      const admin = { Authorization: `Bearer ${await createAdminKey(redis.url, svc.prefix)}` };
      const adminJson = { ...admin, 'Content-Type': 'application/json' };
      // A public address literal (no DNS) on a topic no alert here is ever posted to: the engine never has an event to call it with.
      const hook = await fetch(`${svc.url}/v1/webhooks`, { method: 'POST', headers: adminJson, body: JSON.stringify({ url: 'https://93.184.215.14/hook', topics: ['never-posted-openapi-lint'] }) });
      expect(hook.status).toBe(201);
      const wh = ((await hook.json()) as { id: string }).id;
      const noHook = '/v1/webhooks/wh_01ARZ3NDEKTSV4RRFFQ69G5FAV';
      const cases: [string, string, string, RequestInit, number][] = [
        ['post', '/v1/alerts', '/v1/alerts', { headers: json, body: '' }, 400],
        ['post', '/v1/alerts', '/v1/alerts', { headers: json, body: '{' }, 400],
        ['post', '/v1/alerts', '/v1/alerts', { headers: { 'Content-Type': 'application/json' }, body: '{}' }, 401],
        ['post', '/v1/alerts', '/v1/alerts', { headers: key, body: 'x' }, 415],
        ['post', '/v1/alerts', '/v1/alerts', { headers: json, body: '{}' }, 422],
        ['post', '/v1/alerts', '/v1/alerts', { headers: json, body: JSON.stringify({ headline: 'x'.repeat(70_000) }) }, 413],
        ['get', '/v1/alerts', '/v1/alerts', { headers: key }, 200],
        ['get', '/v1/alerts', '/v1/alerts', {}, 401],
        ['get', '/v1/alerts', '/v1/alerts?limit=0', { headers: key }, 422],
        ['get', '/v1/alerts/{id}', `/v1/alerts/${id}`, {}, 200],
        ['get', '/v1/alerts/{id}', `/v1/alerts/${id}`, { headers: { Authorization: 'Bearer nope' } }, 401],
        ['get', '/v1/alerts/{id}', '/v1/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV', {}, 404],
        ['patch', '/v1/alerts/{id}', `/v1/alerts/${id}`, { headers: json, body: JSON.stringify({ topics: ['x'] }) }, 422],
        ['patch', '/v1/alerts/{id}', `/v1/alerts/${id}`, { headers: { 'Content-Type': 'application/json', Authorization: token }, body: '{}' }, 401],
        ['patch', '/v1/alerts/{id}', '/v1/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV', { headers: json, body: JSON.stringify({ headline: 'y' }) }, 404],
        ['post', '/v1/alerts/{id}/retract', `/v1/alerts/${id}/retract`, { headers: json, body: '' }, 400],
        ['post', '/v1/alerts/{id}/retract', `/v1/alerts/${id}/retract`, { headers: json, body: JSON.stringify({ reason: 'test' }) }, 200],
        ['post', '/v1/alerts/{id}/retract', `/v1/alerts/${id}/retract`, { headers: json, body: JSON.stringify({ reason: 'test' }) }, 409],
        ['patch', '/v1/alerts/{id}', `/v1/alerts/${id}`, { headers: json, body: JSON.stringify({ headline: 'too late' }) }, 409],
        ['get', '/v1/feed', '/v1/feed', {}, 200],
        ['get', '/v1/feed', '/v1/feed?topics=private/x', {}, 401],
        ['get', '/v1/feed', '/v1/feed?topics=private/x', { headers: { Authorization: token } }, 403],
        ['get', '/v1/feed', '/v1/feed?limit=0', {}, 422],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: adminJson, body: '' }, 400],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: adminJson, body: '{' }, 400],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: { 'Content-Type': 'application/json' }, body: '{}' }, 401],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: json, body: '{}' }, 403],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: admin, body: 'x' }, 415],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: adminJson, body: JSON.stringify({ url: 'x'.repeat(70_000) }) }, 413],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: adminJson, body: '{}' }, 422],
        ['post', '/v1/webhooks', '/v1/webhooks', { headers: adminJson, body: JSON.stringify({ url: 'http://127.0.0.1/hook', topics: ['world'] }) }, 422],
        ['get', '/v1/webhooks', '/v1/webhooks', { headers: admin }, 200],
        ['get', '/v1/webhooks', '/v1/webhooks', {}, 401],
        ['get', '/v1/webhooks', '/v1/webhooks', { headers: key }, 403],
        ['get', '/v1/webhooks/{id}', `/v1/webhooks/${wh}`, { headers: admin }, 200],
        ['get', '/v1/webhooks/{id}', `/v1/webhooks/${wh}`, { headers: { Authorization: token } }, 401],
        ['get', '/v1/webhooks/{id}', noHook, { headers: admin }, 404],
        ['get', '/v1/webhooks/{id}', '/v1/webhooks/not-an-id', { headers: admin }, 404],
        ['post', '/v1/webhooks/{id}/rotate-secret', `/v1/webhooks/${wh}/rotate-secret`, { headers: admin }, 200],
        ['post', '/v1/webhooks/{id}/rotate-secret', noHook + '/rotate-secret', { headers: admin }, 404],
        ['post', '/v1/webhooks/{id}/rotate-secret', `/v1/webhooks/${wh}/rotate-secret`, { headers: key }, 403],
        ['post', '/v1/webhooks/{id}/enable', `/v1/webhooks/${wh}/enable`, { headers: admin }, 200],
        ['post', '/v1/webhooks/{id}/enable', `/v1/webhooks/${wh}/enable`, {}, 401],
        // Disabled before the replay, so it sends nothing anywhere.
        ['post', '/v1/webhooks/{id}/disable', `/v1/webhooks/${wh}/disable`, { headers: admin }, 200],
        ['post', '/v1/webhooks/{id}/disable', noHook + '/disable', { headers: admin }, 404],
        ['post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${wh}/replay`, { headers: adminJson, body: JSON.stringify({ from: '0-0' }) }, 202],
        ['post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${wh}/replay`, { headers: adminJson, body: JSON.stringify({ from: 'yesterday' }) }, 422],
        ['post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${wh}/replay`, { headers: adminJson, body: JSON.stringify({ from: '99999999999999-0' }) }, 422],
        ['post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${wh}/replay`, { headers: adminJson, body: '' }, 400],
        ['post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${wh}/replay`, { headers: admin, body: 'x' }, 415],
        ['post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${wh}/replay`, { headers: adminJson, body: JSON.stringify({ from: 'x'.repeat(70_000) }) }, 413],
        ['post', '/v1/webhooks/{id}/replay', noHook + '/replay', { headers: adminJson, body: JSON.stringify({ from: '0-0' }) }, 404],
        ['delete', '/v1/webhooks/{id}', `/v1/webhooks/${wh}`, { headers: key }, 403],
        ['delete', '/v1/webhooks/{id}', `/v1/webhooks/${wh}`, { headers: admin }, 204],
        ['delete', '/v1/webhooks/{id}', `/v1/webhooks/${wh}`, { headers: admin }, 404],
        ['get', '/metrics', '/metrics', {}, 401],
        ['get', '/metrics', '/metrics', { headers: { Authorization: 'Bearer metrics-key-0123456789abcdef' } }, 200],
        ['get', '/healthz', '/healthz', {}, 200],
        ['get', '/readyz', '/readyz', {}, 200],
      ];
      for (const [method, template, url, init, expected] of cases) {
        const res = await fetch(`${svc.url}${url}`, { ...init, method: method.toUpperCase() });
        await res.arrayBuffer();
        const documented = Object.keys(doc.paths[template]?.[method]?.responses ?? {});
        expect({ request: `${method} ${url.slice(0, 60)}`, status: res.status, documented: documented.includes(String(res.status)) }).toEqual({
          request: `${method} ${url.slice(0, 60)}`,
          status: expected,
          documented: true,
        });
      }
    });
  });
});
