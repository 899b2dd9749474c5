/**
 * `flashwire webhooks add|list|show|remove|rotate|replay`, as users run it:
 * the built CLI in a child process against a running service, with calls
 * received by a real HTTP receiver and verified with standardwebhooks.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';
import { createAdminKey, postOn } from '../helpers/webhooks';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');
jest.setTimeout(60_000);

describe('flashwire webhooks', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let rcv: Receiver;
  let admin: string;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, { FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: 'true', FLASHWIRE_WEBHOOK_RETRY_SCHEDULE_MS: '100' });
    admin = await createAdminKey(redis.url, svc.prefix);
    rcv = await startReceiver();
  });
  afterAll(async () => {
    await svc.stop();
    await rcv.close();
    await redis.cleanup();
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', FLASHWIRE_URL: svc.url, FLASHWIRE_KEY: admin, ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('adds, lists, shows, rotates, replays and removes an endpoint', async () => {
    const added = await run(['webhooks', 'add', rcv.url, '--topics', 'cli-hooks,world', '--description', 'relay']);
    expect(added.code).toBe(0);
    const id = /^Added webhook (wh_\S+) -> /m.exec(added.stdout)?.[1] as string;
    const secret = /^ {2}(whsec_\S+)$/m.exec(added.stdout)?.[1] as string;
    expect(id).toBeDefined();
    expect(secret).toBeDefined();

    await postOn(svc.url, 'cli-hooks', 'cli hook 0');
    await rcv.waitFor((c) => c.length >= 1);
    expect(rcv.verify(rcv.calls[0]!, secret)).toEqual(rcv.calls[0]!.frame);

    const list = await run(['webhooks', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+active\\s+\\d+ events, \\d+ s\\s+${rcv.url.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(list.stdout).not.toContain('whsec_');

    const show = await run(['webhooks', 'show', id]);
    expect(show.stdout).toMatch(/^status\s+active$/m);
    expect(show.stdout).toMatch(new RegExp(`^ {2}\\S+ {2}${rcv.calls[0]!.id} {2}204 {2}\\d+ ms$`, 'm'));
    expect(show.stdout).not.toContain('whsec_');

    const rotated = await run(['webhooks', 'rotate', id]);
    const newSecret = /^ {2}(whsec_\S+)$/m.exec(rotated.stdout)?.[1] as string;
    expect(newSecret).toBeDefined();
    expect(newSecret).not.toBe(secret);

    const replay = await run(['webhooks', 'replay', id, '--from', rcv.calls[0]!.id]);
    expect(replay).toMatchObject({ code: 0, stdout: `replaying ${id} from after ${rcv.calls[0]!.id}\n` });
    await postOn(svc.url, 'cli-hooks', 'cli hook 1');
    await rcv.waitFor((c) => c.length >= 2);
    expect(rcv.verify(rcv.calls[1]!, newSecret)).toEqual(rcv.calls[1]!.frame);
    expect(rcv.verify(rcv.calls[1]!, secret)).toEqual(rcv.calls[1]!.frame);

    expect(await run(['webhooks', 'remove', id])).toMatchObject({ code: 0, stdout: `removed ${id}\n` });
    const gone = await run(['webhooks', 'show', id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/webhooks show failed \(404/);
  });

  it('names the bad fields and refuses a key without admin', async () => {
    const bad = await run(['webhooks', 'add', 'ftp://x', '--topics', 'Bad Topic']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ {2}url: must be an absolute http or https URL$/m);
    expect(bad.stderr).toMatch(/^ {2}topics\.0: /m);
    const refused = await run(['webhooks', 'list'], { FLASHWIRE_KEY: 'test-publish-key-0123456789abcdef' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/may not do this \(403/);
  });
});
