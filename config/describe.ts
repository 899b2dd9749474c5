/**
 * The settings schema, written out for people: `.env.example` and the
 * README table both come from here, and a test keeps them in step.
 * Regenerate with `npm run settings:docs`.
 */
import { SETTINGS } from './settings';

type Row = { default: string | undefined; unit: string; why: string };
const rows = () => Object.entries(SETTINGS) as [string, Row][];

export function envExample(): string {
  let out = '# Flashwire settings. Every variable is optional; the value shown is the default.\n';
  out += '# Generated from config/settings.ts (npm run settings:docs). A bad value stops the process with one line naming it.\n\n';
  for (const [name, s] of rows()) {
    out += `# ${s.why} (${s.unit})\n${s.default === undefined ? '# ' : ''}${name}=${s.default ?? ''}\n\n`;
  }
  return out;
}

export function settingsTable(): string {
  let md = '| variable | default | unit | why |\n| --- | --- | --- | --- |\n';
  for (const [name, s] of rows()) {
    md += `| \`${name}\` | ${s.default === undefined || s.default === '' ? '—' : '`' + s.default + '`'} | ${s.unit} | ${s.why} |\n`;
  }
  return md;
}

if (require.main === module) {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const root = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
  fs.writeFileSync(path.join(root, 'config/.env.example'), envExample());
  const readme = path.join(root, 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = text.indexOf('<!-- settings:start -->');
  const end = text.indexOf('<!-- settings:end -->');
  if (start >= 0 && end > start) {
    fs.writeFileSync(readme, text.slice(0, start) + '<!-- settings:start -->\n' + settingsTable() + text.slice(end));
  }
}
