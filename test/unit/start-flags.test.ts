/**
 * The node flags the service runs with are part of how it performs (the
 * young generation's cap is most of a gateway's idle memory per reader), so
 * every documented way to start it passes the same ones as `npm start`.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

function startFlags(): string[] {
  const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
  return start.split(/\s+/).filter((w) => w.startsWith('--'));
}

describe('node flags of the service', () => {
  it('npm start caps the young generation', () => {
    expect(startFlags()).toContain('--max-semi-space-size=4');
  });

  it('the Docker image runs with the same flags', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'));
    expect(cmd).not.toBeNull();
    const argv = JSON.parse(cmd![1]!) as string[];
    expect(argv).toEqual(['node', ...startFlags(), 'dist/server/main.js']);
  });

  it("the README's commands that start a role pass them too", () => {
    const lines = read('README.md').split('\n').filter((l) => /\bnode\b.*dist\/server\/main\.js/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain(`node ${startFlags().join(' ')} dist/server/main.js`);
  });
});
