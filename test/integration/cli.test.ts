/**
 * The `flashwire` CLI as users run it: the built dist/src/cli/main.js in a
 * child process, against a running service.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { FIXTURE, eventually, getJson } from '../helpers/clients';
import { freePort, startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { JWT_SECRET, PUBLISH_KEY } from '../helpers/settings';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');
const FIXTURE_FILE = path.resolve(__dirname, '../fixtures/stoltenberg-nato-alert.json');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the flashwire CLI', () => {
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

  function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', FLASHWIRE_SERVER: svc.url, FLASHWIRE_KEY: PUBLISH_KEY, ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('sends the fixture from a file, shows its status and retracts it', async () => {
    const sent = await run(['send', '--file', FIXTURE_FILE]);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const id = /^accepted (\S+) \(queued\)  BULLETIN  Stoltenberg: Ukraine Belongs in NATO$/m.exec(sent.stdout)?.[1];
    expect(id).toBeDefined();
    expect((await getJson(`${svc.url}/v1/alerts/${id}`)).body).toMatchObject({ headline: FIXTURE.headline, topics: FIXTURE.topics, url: FIXTURE.url });

    await eventually(async () => /^status\s+sent$/m.test((await run(['status', id!])).stdout));
    const status = await run(['status', id!]);
    expect(status.stdout).toMatch(/^event id\s+\d+-\d+$/m);
    expect(status.stdout).toMatch(/^deliveries\s+\d+$/m);

    const retracted = await run(['retract', id!, '--reason', 'Misattributed quote']);
    expect(retracted).toMatchObject({ code: 0, stdout: `retracted ${id} (retracted): Misattributed quote\n` });
    expect((await run(['status', id!, '--json'])).stdout).toContain('"status": "retracted"');
  });

  it('sends from flags, which override the file', async () => {
    const r = await run(['send', '-q', '--file', FIXTURE_FILE, '--headline', 'Polls close', '--topics', 'elections,us', '--priority', 'flash', '--key', PUBLISH_KEY], { FLASHWIRE_KEY: '' });
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect((await getJson(`${svc.url}/v1/alerts/${id}`)).body).toMatchObject({ headline: 'Polls close', topics: ['elections', 'us'], priority: 'flash', summary: FIXTURE.summary });
  });

  it('lists every validation error per field, with a non-zero exit', async () => {
    const r = await run(['send', '--headline', ' ', '--topics', 'World News', '--link', 'ftp://x', '--priority', 'huge']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^flashwire: send failed: the service rejected these fields \(422\):$/m);
    expect(r.stderr).toMatch(/^ {2}headline: must not be empty$/m);
    expect(r.stderr).toMatch(/^ {2}topics\.0: must be lowercase/m);
    expect(r.stderr).toMatch(/^ {2}url: must be an absolute http or https URL$/m);
    expect(r.stderr).toMatch(/^ {2}priority: must be one of flash, bulletin, urgent, routine$/m);
  });

  it('says clearly when the key is refused, missing, or the service is down', async () => {
    const bad = await run(['send', '--headline', 'x', '--topics', 'world'], { FLASHWIRE_KEY: 'fw_not-a-real-key-0000000000' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^flashwire: send failed: the key was refused \(401.*\); pass a valid key with --key or FLASHWIRE_KEY\n$/);

    const none = await run(['send', '--headline', 'x', '--topics', 'world'], { FLASHWIRE_KEY: '' });
    expect(none).toMatchObject({ code: 1, stderr: 'flashwire: no publish key: pass --key or set FLASHWIRE_KEY\n' });

    const port = await freePort();
    const down = await run(['status', '01ARZ3NDEKTSV4RRFFQ69G5FAV'], { FLASHWIRE_SERVER: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(new RegExp(`^flashwire: cannot reach http://127.0.0.1:${port}.*ECONNREFUSED.*is the service running\\?.*\\n$`));
    expect(down.stderr.split('\n')).toHaveLength(2);
  });

  it('explains unknown ids, conflicts and bad files', async () => {
    const missing = await run(['status', '01ARZ3NDEKTSV4RRFFQ69G5FAV']);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toMatch(/^flashwire: status failed \(404 Not Found\): /);

    const id = (await run(['send', '-q', '--headline', 'Twice', '--topics', 'world'])).stdout.trim();
    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${id}`)).body.status === 'sent');
    expect((await run(['retract', id, '--reason', 'first'])).code).toBe(0);
    const again = await run(['retract', id, '--reason', 'second']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^flashwire: retract failed \(409 Conflict\): /);

    const nofile = await run(['send', '--file', '/nonexistent/alert.json']);
    expect(nofile).toMatchObject({ code: 1, stderr: 'flashwire: cannot read /nonexistent/alert.json: ENOENT\n' });
    const noReason = await run(['retract', id]);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
  });

  it('has helpful --help for the program and each command', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['send', 'status', 'correct', 'retract', 'list', 'tail', 'keys', 'token']) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const send = await run(['send', '--help']);
    expect(send.code).toBe(0);
    expect(send.stdout).toContain('--file <path>');
    expect(send.stdout).toContain('Examples:');
  });

  it('runs as `npx flashwire` from the project, as the README shows', async () => {
    const root = path.resolve(__dirname, '../..');
    const out = await new Promise<Run>((resolve) =>
      execFile('npx', ['flashwire', '--help'], { cwd: root, env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(out).toMatchObject({ code: 0 });
    expect(out.stdout).toMatch(/^  send\b/m);
  });

  /** Starts `flashwire tail …`; resolves once it is connected. */
  async function tail(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [CLI, 'tail', ...args], { env: { PATH: process.env.PATH ?? '', FLASHWIRE_SERVER: svc.url, ...env } });
    const t = { out: '', err: '', exited: new Promise<number | null>((r) => child.once('exit', r)), child };
    child.stdout.on('data', (d) => (t.out += String(d)));
    child.stderr.on('data', (d) => (t.err += String(d)));
    return t;
  }

  it('tail prints each alert with its id and send time as it arrives', async () => {
    const t = await tail(['europe', '--once']);
    await eventually(() => t.err.includes('# connected (europe)'));
    const sent = await run(['send', '-q', '--file', FIXTURE_FILE]);
    expect(sent.code).toBe(0);
    const id = sent.stdout.trim();
    expect(await t.exited).toBe(0);
    const alert = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
    const at = new Date(alert.sentAt).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
    expect(t.out).toBe(`${at}  ${id}  BULLETIN Stoltenberg: Ukraine Belongs in NATO  [world, europe/ukraine, nato]  ${FIXTURE.url}\n`);
  });

  it('tail shows a replayed alert with its send time, not its arrival', async () => {
    const id = (await run(['send', '-q', '--headline', 'Replayed', '--topics', 'replay'])).stdout.trim();
    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${id}`)).body.status === 'sent');
    const alert = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
    const replay = await tail(['replay', '--once', '--since', '0-0']);
    expect(await replay.exited).toBe(0);
    expect(replay.out).toContain(`${new Date(alert.sentAt).toISOString().replace('T', ' ').slice(0, 19)}Z  ${id}  URGENT`);

  });

  it('tail exits non-zero on a refused or invalid topic', async () => {
    const forbidden = await tail(['private/premium']);
    expect(await forbidden.exited).toBe(1);
    expect(forbidden.err).toMatch(/^flashwire: tail: .*private\/premium.*\(forbidden_topic\)$/m);
    const invalid = await tail(['Not A Topic']);
    expect(await invalid.exited).toBe(1);
    expect(invalid.err).toMatch(/\(invalid_topic\)$/m);
    const port = await freePort();
    const down = await tail(['europe'], { FLASHWIRE_SERVER: `http://127.0.0.1:${port}` });
    expect(await down.exited).toBe(3);
    expect(down.err).toMatch(/^flashwire: cannot reach http:\/\/127\.0\.0\.1:\d+/m);
  });

  it('never prints a key, token or secret: not in help, not in errors', async () => {
    const secrets = { FLASHWIRE_KEY: 'fw_topsecret-publish-key-4242', FLASHWIRE_TOKEN: 'eyJ.topsecret-token.4242', FLASHWIRE_JWT_SECRET: 'topsecret-jwt-secret-4242-0123456789abcdef' };
    const port = await freePort();
    const runs = await Promise.all([
      ...[[], ['send'], ['status'], ['retract'], ['correct'], ['tail'], ['keys'], ['token'], ['list']].map((c) => run([...c, '--help'], secrets)),
      run(['send', '--headline', 'x', '--topics', 'world'], secrets), // refused key
      run(['send', '--headline', 'x', '--topics', 'world'], { ...secrets, FLASHWIRE_SERVER: `http://127.0.0.1:${port}` }), // unreachable
      run(['send', '--headline', 'x', '--topics', 'world', '--server', 'http://news.example.org'], secrets), // refused: plain http
      run(['send', '--nonsense'], secrets),
      run(['tail', 'europe'], { ...secrets, FLASHWIRE_SERVER: `http://127.0.0.1:${port}` }),
    ]);
    for (const r of runs) for (const v of Object.values(secrets)) expect(r.stdout + r.stderr).not.toContain(v.slice(3));
    expect(runs[1]!.stdout).toContain('--key <key>');
  });

  it('--server is the service; on send, --url and --link are the article link', async () => {
    const link = 'https://example.org/news/x';
    const sent = await run(['send', '-q', '--headline', 'Link test', '--topics', 'world', '--url', link, '--server', svc.url], { FLASHWIRE_SERVER: '' });
    expect(sent.code).toBe(0);
    expect((await getJson(`${svc.url}/v1/alerts/${sent.stdout.trim()}`)).body.url).toBe(link);
    const viaLink = await run(['send', '-q', '--headline', 'Link test', '--topics', 'world', '--link', link]);
    expect((await getJson(`${svc.url}/v1/alerts/${viaLink.stdout.trim()}`)).body.url).toBe(link);
    // The old global --url is no more: it cannot be mistaken for the server.
    expect((await run(['--url', svc.url, 'status', 'x'])).code).not.toBe(0);
  });

  it('refuses to send a key over plain http to another host unless --insecure', async () => {
    const refused = await run(['send', '--headline', 'x', '--topics', 'world', '--server', 'http://news.example.org']);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toBe('flashwire: refusing to send a credential over plain http to news.example.org: use https, or pass --insecure if this network is trusted\n');
    // 0.0.0.0 reaches this machine but is not a loopback name: refused, then allowed with --insecure.
    const other = svc.url.replace('127.0.0.1', '0.0.0.0');
    expect((await run(['send', '-q', '--headline', 'x', '--topics', 'world', '--server', other])).code).toBe(2);
    const allowed = await run(['send', '-q', '--headline', 'insecure', '--topics', 'world', '--server', other, '--insecure']);
    expect(allowed.code).toBe(0);
    // Without a credential there is nothing to protect.
    expect((await run(['status', allowed.stdout.trim(), '--server', other], { FLASHWIRE_KEY: '' })).code).toBe(0);
  });

  it('corrects an alert, and clears its summary or link', async () => {
    const id = (await run(['send', '-q', '--file', FIXTURE_FILE])).stdout.trim();
    const fixed = await run(['correct', id, '--headline', 'Stoltenberg: Ukraine’s place is in NATO']);
    expect(fixed).toMatchObject({ code: 0, stderr: '' });
    expect(fixed.stdout).toMatch(new RegExp(`^corrected ${id} \\((queued|sent)\\)  Stoltenberg: Ukraine’s place is in NATO\n$`));
    expect((await run(['correct', id, '--clear-summary', '--url', 'https://example.org/fixed'])).code).toBe(0);
    const got = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
    expect(got).toMatchObject({ headline: 'Stoltenberg: Ukraine’s place is in NATO', url: 'https://example.org/fixed' });
    expect(got).not.toHaveProperty('summary');
    expect(await run(['correct', id])).toMatchObject({ code: 2, stderr: expect.stringContaining('nothing to correct') });
    const bad = await run(['correct', id, '--url', 'ftp://x']);
    expect(bad.stderr).toMatch(/^ {2}url: must be an absolute http or https URL$/m);
  });

  it('mints a subscriber token with FLASHWIRE_JWT_SECRET that opens a private alert', async () => {
    const minted = await run(['token', '--topics', 'private/premium', '--ttl', '1h'], { FLASHWIRE_JWT_SECRET: JWT_SECRET });
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    const claims = new SubscriberTokens(JWT_SECRET).verify(token)!;
    expect(claims.topics).toEqual(['private/premium']);
    expect(Math.abs(claims.expiresAt - (Date.now() + 3600_000))).toBeLessThan(120_000);
    const id = (await run(['send', '-q', '--headline', 'Premium', '--topics', 'private/premium'])).stdout.trim();
    expect((await run(['status', id], { FLASHWIRE_KEY: '' })).code).toBe(1);
    expect(await run(['status', id, '--key', token], { FLASHWIRE_KEY: '' })).toMatchObject({ code: 0, stdout: expect.stringContaining('Premium') });
    expect(await run(['token', '--topics', 'private/premium'], { FLASHWIRE_JWT_SECRET: '' })).toMatchObject({ code: 2, stderr: expect.stringContaining('FLASHWIRE_JWT_SECRET is not set') });
    expect((await run(['token', '--topics', 'private/premium', '--ttl', 'soon'], { FLASHWIRE_JWT_SECRET: JWT_SECRET })).code).toBe(2);
  });
});
