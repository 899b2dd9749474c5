/**
 * The README and docs/workflow.md work verbatim on a fresh clone: every
 * ```sh block is run, in order, by one bash per document (so variables set
 * in one block are there in the next), from the repository root, against a
 * service started here.
 *
 * Conventions (what a reader of the docs sees is what runs):
 * - A block preceded by `<!-- docs-test: skip (why) -->` is not run: it
 *   starts something long-running (npm start, tail), needs the network, or
 *   is covered by its own test. The reason is required.
 * - A block preceded by `<!-- docs-test: expect-problem -->` is meant to show
 *   an error; every other block fails the test if its output holds a problem
 *   document (an error answer from the API).
 * - The one adjustment: the service runs on a free port, not 8080, so
 *   `localhost:8080` in a block becomes that address, and the CLI's default
 *   service (localhost:8080) is given as FLASHWIRE_SERVER. The shell also
 *   gets REDIS_URL and FLASHWIRE_PREFIX (for `flashwire keys`, which talks
 *   to Redis as the service does) and the service's FLASHWIRE_JWT_SECRET.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET } from '../helpers/settings';

const ROOT = path.resolve(__dirname, '../..');

export interface ShellBlock {
  line: number;
  code: string;
  skip?: string;
  expectProblem: boolean;
}

/** The ```sh blocks of a markdown document, with their markers. */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    if (fence[1] === 'sh' || fence[1] === 'bash') {
      let j = start - 1;
      while (j >= 0 && lines[j]!.trim() === '') j--;
      const marker = j >= 0 ? /^<!-- docs-test: (skip \((.+)\)|expect-problem) -->$/.exec(lines[j]!.trim()) : null;
      blocks.push({ line: start + 1, code: lines.slice(start + 1, end).join('\n'), skip: marker?.[2], expectProblem: marker?.[1] === 'expect-problem' });
    }
    i = end;
  }
  return blocks;
}

describe('the docs, run verbatim', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  it('finds the blocks and their markers', () => {
    const md = ['text', '```sh', 'echo a', '```', '<!-- docs-test: skip (long-running) -->', '', '```sh', 'npm start', '```', '```js', 'x()', '```'].join('\n');
    expect(shellBlocks(md)).toEqual([
      { line: 2, code: 'echo a', skip: undefined, expectProblem: false },
      { line: 7, code: 'npm start', skip: 'long-running', expectProblem: false },
    ]);
  });

  for (const doc of ['README.md', 'docs/workflow.md']) {
    it(`runs every shell block of ${doc}`, async () => {
      const svc = await startService(redis.url);
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-docs-'));
      try {
        const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
        expect(text).not.toContain('../shared');
        const blocks = shellBlocks(text);
        const run = blocks.filter((b) => !b.skip);
        expect(run.length).toBeGreaterThanOrEqual(2);
        const script = [
          'set -euo pipefail',
          `cd ${JSON.stringify(ROOT)}`,
          // `npx <bin>` resolves to node_modules/.bin/<bin>; calling that directly spares npm's own
          // start-up (seconds on a busy machine) for each of the documents' many commands.
          // That `npx flashwire` itself works is checked once, in cli.test.ts.
          `npx() { if [ -x ${JSON.stringify(ROOT)}/node_modules/.bin/"$1" ]; then ${JSON.stringify(ROOT)}/node_modules/.bin/"$1" "\${@:2}"; else command npx "$@"; fi; }`,
        ];
        run.forEach((b, n) => script.push(`echo "@@block ${n}@@"; echo "@@block ${n}@@" >&2`, b.code.replaceAll('localhost:8080', `127.0.0.1:${svc.port}`)));
        script.push('echo "@@end@@"');
        const env = {
          PATH: process.env.PATH ?? '',
          HOME: home,
          LANG: 'C.UTF-8',
          FLASHWIRE_SERVER: svc.url,
          REDIS_URL: redis.url,
          FLASHWIRE_PREFIX: svc.prefix,
          FLASHWIRE_JWT_SECRET: JWT_SECRET,
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
          npm_config_cache: path.join(os.homedir(), '.npm'),
        };
        const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile('bash', ['-c', script.join('\n')], { cwd: ROOT, env, timeout: 400_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
        });
        const outputs = result.stdout.split(/@@block (\d+)@@\n/);
        const reached = Number(outputs.at(-2) ?? -1);
        const failed = run[reached];
        expect({ doc, exit: result.code, ended: result.stdout.includes('@@end@@'), at: failed && result.code !== 0 ? `line ${failed.line}: ${failed.code}\n${result.stderr.split(/@@block \d+@@\n/).at(-1)}` : '' }).toEqual({
          doc,
          exit: 0,
          ended: true,
          at: '',
        });
        // No block answered with an API error unless it is there to show one.
        for (let n = 0; n < run.length; n++) {
          const out = outputs[2 * n + 2] ?? '';
          if (!run[n]!.expectProblem) expect({ line: run[n]!.line, problem: /flashwire\.dev\/problems\//.test(out) ? out : false }).toEqual({ line: run[n]!.line, problem: false });
        }
      } finally {
        await svc.stop();
        fs.rmSync(home, { recursive: true, force: true });
      }
    }, 600_000);
  }
});
