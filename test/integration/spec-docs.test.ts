/**
 * The OpenAPI and AsyncAPI documents: served by the service, valid per
 * well-kept validators, and built from the very zod schemas the code
 * validates with, so they cannot drift from what the service does.
 */
import { execFileSync } from 'node:child_process';
import { Parser } from '@asyncapi/parser';
import { z } from 'zod';
import { alertInputSchema, alertResourceSchema } from '../../src/alert/schema';
import { problemSchema } from '../../src/http/problem';
import { clientFrameSchema, serverFrameSchema } from '../../src/protocol/frames';
import { buildAsyncApi, CLIENT_FRAMES, SERVER_FRAMES } from '../../src/spec-docs/asyncapi';
import { jsonSchema } from '../../src/spec-docs/json-schema';
import { buildOpenApi, feedPageSchema } from '../../src/spec-docs/openapi';
import { audienceCountSchema, dryRunSchema } from '../../src/store/audience';
import { webhookCreatedSchema, webhookCreateSchema, webhookDetailSchema, webhookListSchema, webhookRotatedSchema, webhookViewSchema } from '../../src/webhooks/schema';
import { FIXTURE, eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';
import { createAdminKey, webhookApi } from '../helpers/webhooks';

// The validator is ESM-only; jest runs CommonJS, so it runs in its own node.
function validateOpenApi(doc: unknown): { valid: boolean; errors?: unknown; version?: string } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = ''; for await (const c of process.stdin) text += c;
    const v = new Validator();
    const res = await v.validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ ...res, version: v.version }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(doc), cwd: __dirname }).toString());
}

describe('the API descriptions', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.cleanup();
  });

  it('serves an OpenAPI 3.1 document at /v1/openapi.json that the validator accepts', async () => {
    const res = await getJson(`${svc.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(buildOpenApi());
    const result = validateOpenApi(res.body);
    expect(result).toMatchObject({ valid: true, version: '3.1' });
  });

  it('rejects a broken OpenAPI document (the validator is not a rubber stamp)', () => {
    const broken = buildOpenApi() as { paths: Record<string, any> };
    broken.paths['/v1/alerts']!.post.responses = { '202': { content: {} } };
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  it('takes every body schema from the zod schema the code validates with', () => {
    const schemas = (buildOpenApi() as { components: { schemas: Record<string, Record<string, unknown>> } }).components.schemas;
    const derived = jsonSchema(alertInputSchema, 'input');
    // Only the code-point limits (refinements JSON Schema cannot carry) are added.
    const { headline, summary } = (schemas.AlertInput!.properties as Record<string, Record<string, unknown>>);
    expect({ ...schemas.AlertInput, properties: { ...(schemas.AlertInput!.properties as object), headline: (derived.properties as any).headline, summary: (derived.properties as any).summary } }).toEqual(derived);
    expect(headline).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 });
    expect(summary).toMatchObject({ maxLength: 2000 });
    expect(schemas.Alert).toEqual(jsonSchema(alertResourceSchema, 'output'));
    expect(schemas.Problem).toEqual(jsonSchema(problemSchema, 'output'));
    expect(schemas.FeedPage).toEqual(jsonSchema(feedPageSchema, 'output'));
    expect((schemas.AlertInput!.properties as any).priority.enum).toEqual(['flash', 'bulletin', 'urgent', 'routine']);
  });

  it("describes what the running API really answers, path by path", async () => {
    const doc = buildOpenApi() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/metrics', '/readyz', '/v1/alerts', '/v1/alerts/{id}', '/v1/alerts/{id}/retract', '/v1/alerts/{id}/approve', '/v1/alerts/{id}/reject', '/v1/audience', '/v1/feed', '/v1/push/key', '/v1/push/subscriptions', '/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/rotate-secret', '/v1/webhooks/{id}/enable', '/v1/webhooks/{id}/disable', '/v1/webhooks/{id}/replay'].sort());
    const posted = await postAlert(svc.url, FIXTURE);
    expect(posted.status).toBe(202);
    alertResourceSchema.parse(posted.body);
    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body.status === 'sent');
    alertResourceSchema.parse((await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body);
    const feed = await getJson(`${svc.url}/v1/feed?topics=nato`);
    expect(feed.status).toBe(200);
    expect(feedPageSchema.parse(feed.body).events.map((e) => e.type)).toContain('alert');
    const bad = await postAlert(svc.url, { headline: '', topics: [] });
    expect(bad.status).toBe(422);
    expect(problemSchema.parse(bad.body).errors?.length).toBeGreaterThan(0);
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${svc.url}${p}`)).status).toBe(200);
    const audience = await getJson(`${svc.url}/v1/audience?topics=nato`, { Authorization: `Bearer ${PUBLISH_KEY}` });
    expect(audience.status).toBe(200);
    audienceCountSchema.strict().parse(audience.body);
    const dry = await fetch(`${svc.url}/v1/alerts?dryRun=true`, { method: 'POST', headers: { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' }, body: JSON.stringify(FIXTURE) });
    expect(dry.status).toBe(200);
    dryRunSchema.strict().parse(await dry.json());
  });

  it('describes what the webhook routes really answer, body by body', async () => {
    const schemas = (buildOpenApi() as { components: { schemas: Record<string, unknown> } }).components.schemas;
    expect(schemas.WebhookCreate).toEqual(jsonSchema(webhookCreateSchema, 'input'));
    expect(schemas.WebhookDetail).toEqual(jsonSchema(webhookDetailSchema, 'output'));
    const hooks = webhookApi(svc.url, await createAdminKey(redis.url, svc.prefix));
    // A public address literal (no DNS) on a topic no alert here is ever posted to: it is never called.
    const created = await hooks.call('POST', '/v1/webhooks', { url: 'https://93.184.215.14/hook', topics: ['never-posted-spec-check'], description: 'spec check' });
    expect(created.status).toBe(201);
    const id = webhookCreatedSchema.strict().parse(created.body).id;
    const list = await hooks.call('GET', '/v1/webhooks');
    expect(list.status).toBe(200);
    expect(webhookListSchema.strict().parse(list.body).webhooks.map((w) => w.id)).toContain(id);
    for (const w of list.body.webhooks) webhookViewSchema.strict().parse(w);
    const one = await hooks.call('GET', `/v1/webhooks/${id}`);
    expect(one.status).toBe(200);
    webhookDetailSchema.strict().parse(one.body);
    const rotated = await hooks.call('POST', `/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(webhookRotatedSchema.strict().parse(rotated.body).secret).not.toBe(created.body.secret);
    // Disabled last, so the replay below sends nothing anywhere.
    for (const action of ['enable', 'disable']) {
      const r = await hooks.call('POST', `/v1/webhooks/${id}/${action}`);
      expect(r.status).toBe(200);
      webhookViewSchema.strict().parse(r.body);
    }
    const replay = await hooks.call('POST', `/v1/webhooks/${id}/replay`, { from: '0-0' });
    expect(replay.status).toBe(202);
    expect(webhookViewSchema.strict().parse(replay.body).cursor).toBe('0-0');
    expect((await hooks.call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
  });

  it('serves an AsyncAPI 3 document of the stream protocol that the AsyncAPI parser accepts', async () => {
    const res = await getJson(`${svc.url}/v1/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(buildAsyncApi());
    const { document, diagnostics } = await new Parser().parse(res.body);
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    expect(document!.channels().all().map((c) => c.address()).sort()).toEqual(['/v1/events', '/v1/stream']);
    // Every frame the protocol schema knows is described, and nothing else.
    const names = document!.components().messages().all().map((m) => m.id()).sort();
    const unionTypes = (u: z.ZodDiscriminatedUnion) => u.options.map((o) => ((o as z.ZodObject).shape.type as z.ZodLiteral).value as string);
    expect(names).toEqual([...unionTypes(serverFrameSchema as never), ...unionTypes(clientFrameSchema as never)].sort());
    expect(Object.keys(SERVER_FRAMES).length + Object.keys(CLIENT_FRAMES).length).toBe(names.length);
  });

  it('rejects a broken AsyncAPI document', async () => {
    const broken = buildAsyncApi() as { operations: Record<string, any> };
    broken.operations.sendStreamFrames.action = 'publish';
    const { diagnostics } = await new Parser().parse(broken as never);
    expect(diagnostics.filter((d) => d.severity === 0).length).toBeGreaterThan(0);
  });

  it("describes frames the gateway really sends", async () => {
    const reader = await openReader(svc.wsUrl, { topics: 'world' });
    const posted = await postAlert(svc.url, { headline: 'AsyncAPI check', topics: ['world'] });
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
    for (const f of reader.frames) serverFrameSchema.parse(f);
    reader.close();
  });
});
