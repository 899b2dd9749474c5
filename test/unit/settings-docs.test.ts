import fs from 'node:fs';
import path from 'node:path';
import { envExample, settingsTable } from '../../config/describe';

describe('settings documentation', () => {
  const root = path.resolve(__dirname, '../..');
  it('config/.env.example is generated from the schema (run npm run settings:docs)', () => {
    expect(fs.readFileSync(path.join(root, 'config/.env.example'), 'utf8')).toBe(envExample());
  });
  it('the README settings table is generated from the schema (run npm run settings:docs)', () => {
    expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(settingsTable());
  });
});
