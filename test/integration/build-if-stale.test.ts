/**
 * `npm start` rebuilds only when something the build reads changed: the
 * prestart check (scripts/build-if-stale.mjs) run in a scratch project whose
 * `build` script only records that it ran.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../scripts/build-if-stale.mjs');

describe('prestart: build only when the sources changed', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-prestart-'));
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(SCRIPT, path.join(dir, 'scripts/build-if-stale.mjs'));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.mkdirSync(path.join(dir, 'server'));
    fs.writeFileSync(path.join(dir, 'server/main.ts'), 'export const a = 1;\n');
    // The build appends a line to builds.log and writes what `npm start` runs.
    const build = "node -e \"const fs=require('fs');fs.appendFileSync('builds.log','built\\n');fs.mkdirSync('dist/server',{recursive:true});fs.writeFileSync('dist/server/main.js','')\"";
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, scripts: { build } }));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function prestart(): { status: number | null; stderr: string } {
    const env = { ...process.env };
    delete env.npm_execpath;
    const r = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: dir, env, encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  }
  const builds = () => (fs.existsSync(path.join(dir, 'builds.log')) ? fs.readFileSync(path.join(dir, 'builds.log'), 'utf8').split('\n').filter(Boolean).length : 0);

  it('is what `npm start` runs before starting', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBe('node scripts/build-if-stale.mjs');
    expect(pkg.scripts.start).toBe('node --max-semi-space-size=4 dist/server/main.js');
  });

  it('builds a fresh checkout, then starts an unchanged one without building', () => {
    expect(prestart().status).toBe(0);
    expect(builds()).toBe(1);
    const second = prestart();
    expect(second.status).toBe(0);
    expect(second.stderr).toContain('up to date');
    expect(builds()).toBe(1);
  });

  it('builds again when a source file changed, was added or was removed, or dist is gone', () => {
    prestart();
    expect(builds()).toBe(1);
    const file = path.join(dir, 'server/main.ts');
    fs.writeFileSync(file, 'export const a = 2;\n');
    // Same size, new mtime: still a change.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    prestart();
    expect(builds()).toBe(2);
    fs.writeFileSync(path.join(dir, 'src/extra.ts'), 'export {};\n');
    prestart();
    expect(builds()).toBe(3);
    fs.rmSync(path.join(dir, 'src/extra.ts'));
    prestart();
    expect(builds()).toBe(4);
    fs.rmSync(path.join(dir, 'dist/server/main.js'));
    prestart();
    expect(builds()).toBe(5);
    prestart();
    expect(builds()).toBe(5);
  });

  it('does not record a failed build, so the next start tries again', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const good = pkg.scripts.build;
    pkg.scripts.build = "node -e \"require('fs').appendFileSync('builds.log','failed\\n');process.exit(2)\"";
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    expect(prestart().status).not.toBe(0);
    expect(builds()).toBe(1);
    pkg.scripts.build = good;
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    expect(prestart().status).toBe(0);
    expect(builds()).toBe(2);
    prestart();
    expect(builds()).toBe(2);
  });
});
