/**
 * The `flashwire` CLI as users run it: the built dist/src/cli/main.js in a
 * child process, against a running service.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { FIXTURE, eventually, getJson } from '../helpers/clients';
import { freePort, startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';

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
      execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', FLASHWIRE_URL: svc.url, FLASHWIRE_KEY: PUBLISH_KEY, ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
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
    const down = await run(['status', '01ARZ3NDEKTSV4RRFFQ69G5FAV'], { FLASHWIRE_URL: `http://127.0.0.1:${port}` });
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
    for (const c of ['send', 'status', 'retract', 'tail', 'keys']) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const send = await run(['send', '--help']);
    expect(send.code).toBe(0);
    expect(send.stdout).toContain('--file <path>');
    expect(send.stdout).toContain('Examples:');
  });

  it('tail prints alerts as they arrive', async () => {
    const child = spawn(process.execPath, [CLI, 'tail', 'europe', '--once'], { env: { PATH: process.env.PATH ?? '', FLASHWIRE_URL: svc.url } });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await eventually(() => out.includes('# connected'));
    const sent = await run(['send', '-q', '--file', FIXTURE_FILE]);
    expect(sent.code).toBe(0);
    expect(await exited).toBe(0);
    expect(out).toMatch(/BULLETIN +Stoltenberg: Ukraine Belongs in NATO {2}\[world, europe\/ukraine, nato\]/);
  });
});
