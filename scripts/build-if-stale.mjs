// `npm start` runs this first: it builds only when something the build reads
// changed since the last build it ran (or dist/ is missing), so a restart of
// an unchanged checkout starts at once. The fingerprint of the inputs (every
// file's path, size and mtime) is taken before building and recorded only
// once the build succeeded; a failed or interrupted build is retried next time.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** What `npm run build` reads. */
const INPUTS = ['server', 'src', 'workers', 'config', 'tsconfig.json', 'tsconfig.browser.json', 'package.json', 'package-lock.json'];
/** What it writes that `npm start` needs. */
const OUTPUT = 'dist/server/main.js';
const STAMP = 'dist/.build-inputs';

function walk(rel, out) {
  let st;
  try {
    st = fs.statSync(path.join(root, rel));
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) walk(path.join(rel, name), out);
  } else {
    out.push(`${rel}\t${st.size}\t${st.mtimeMs}`);
  }
}

export function fingerprint() {
  const lines = [];
  for (const i of INPUTS) walk(i, lines);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

function recorded() {
  try {
    return fs.readFileSync(path.join(root, STAMP), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const before = fingerprint();
if (fs.existsSync(path.join(root, OUTPUT)) && recorded() === before) {
  console.error('flashwire: build is up to date; starting without rebuilding');
  process.exit(0);
}
console.error('flashwire: sources changed since the last build; building');
// The package manager that ran us (npm, or yarn/pnpm), else npm from the PATH.
const npm = process.env.npm_execpath && !/npx/.test(path.basename(process.env.npm_execpath)) ? process.env.npm_execpath : undefined;
const res = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (res.status !== 0) process.exit(res.status ?? 1);
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, STAMP), `${before}\n`);
