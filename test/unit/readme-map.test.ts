/**
 * README's "Where things are" is the map a newcomer reads first: every
 * folder of the code (and every room directly under src/) must be on it,
 * so a new room cannot land without saying what it is.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function mapSection(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Where things are');
  expect(start).toBeGreaterThanOrEqual(0);
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next < 0 ? undefined : next);
}

function folders(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}`);
}

describe('README map', () => {
  it('names every top-level folder of the code and every room under src/', () => {
    const map = mapSection();
    const wanted = [
      ...['config', 'server', 'src', 'workers', 'clients', 'scripts', 'bench', 'docs', 'test'].filter((d) => fs.existsSync(path.join(ROOT, d))),
      ...folders('src'),
      ...fs.readdirSync(path.join(ROOT, 'src')).filter((f) => f.endsWith('.ts')).map((f) => `src/${f}`),
    ];
    const missing = wanted.filter((d) => !map.includes(`\`${d}`));
    expect(missing).toEqual([]);
  });
});
