/**
 * The pages and files browsers load, served by every process that runs the
 * api or gateway role: the reader (/), the newsroom console (/console), the
 * browser client module (/client/flashwire.js), their assets, and the
 * OpenAPI and AsyncAPI documents. Files come from dist/web (built by
 * `npm run build`) and are read once, at start.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { buildAsyncApi } from '../spec-docs/asyncapi';
import { buildOpenApi } from '../spec-docs/openapi';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  html: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

// Same-origin only: pages load nothing from elsewhere, and no inline script
// can run even if a headline ever reached the DOM as markup.
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** dist/web beside the compiled code, or the built copy when running from sources (ts-jest). */
function webRoot(): string | undefined {
  const candidates = [path.resolve(__dirname, '../../web'), path.resolve(__dirname, '../../dist/web')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'client/flashwire.js')));
}

function asset(body: Buffer | string, file: string): Asset {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const ext = path.extname(file);
  return { body: buf, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha1').update(buf).digest('base64url')}"`, html: ext === '.html' };
}

function routes(root: string | undefined, version: string): Map<string, Asset> {
  const m = new Map<string, Asset>();
  m.set('/v1/openapi.json', asset(JSON.stringify(buildOpenApi(version), null, 1), 'openapi.json'));
  m.set('/v1/asyncapi.json', asset(JSON.stringify(buildAsyncApi(version), null, 1), 'asyncapi.json'));
  if (!root) return m;
  const read = (rel: string) => asset(fs.readFileSync(path.join(root, rel)), rel);
  m.set('/', read('pages/index.html'));
  m.set('/console', read('pages/console.html'));
  m.set('/client/flashwire.js', read('client/flashwire.js'));
  if (fs.existsSync(path.join(root, 'sw.js'))) m.set('/sw.js', read('sw.js'));
  for (const f of ['site.css', 'icon.svg']) m.set(`/assets/${f}`, read(`pages/${f}`));
  for (const f of fs.readdirSync(path.join(root, 'assets'))) if (f.endsWith('.js')) m.set(`/assets/${f}`, read(`assets/${f}`));
  return m;
}

export type SiteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Answers true when the request was for one of its paths (GET or HEAD). */
export function createSiteHandler(options: { root?: string; version?: string } = {}): SiteHandler {
  const files = routes(options.root ?? webRoot(), options.version ?? '0.1.0');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const p = (req.url ?? '/').split('?', 1)[0]!;
    const a = files.get(p === '/index.html' ? '/' : p);
    if (!a) return false;
    const headers: Record<string, string | number> = {
      'Content-Type': a.type,
      ETag: a.etag,
      // Revalidate every time: a deploy must reach readers at once, and a 304 is cheap.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ...(a.html ? PAGE_HEADERS : {}),
    };
    if (p.endsWith('.json')) headers['Access-Control-Allow-Origin'] = '*';
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    headers['Content-Length'] = a.body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : a.body);
    return true;
  };
}
