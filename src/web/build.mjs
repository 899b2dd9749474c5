// Builds what browsers load: the client module and the page scripts (esbuild),
// plus the pages' HTML, CSS and icon, into dist/web. Runs inside `npm run build`.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const out = path.join(root, 'dist/web');
fs.rmSync(out, { recursive: true, force: true });
const common = { bundle: true, format: 'esm', minify: true, target: 'es2022', platform: 'browser', legalComments: 'none', logLevel: 'warning' };

await build({ ...common, entryPoints: [path.join(root, 'src/clients/browser/flashwire-client.ts')], outfile: path.join(out, 'client/flashwire.js') });

// The pages import the client from where the service serves it, so the page
// and any integrator load the very same module.
const clientAsServed = {
  name: 'client-as-served',
  setup(b) {
    b.onResolve({ filter: /clients\/browser\/flashwire-client$/ }, () => ({ path: '/client/flashwire.js', external: true }));
  },
};
await build({
  ...common,
  entryPoints: ['reader', 'console'].map((n) => path.join(root, `src/web/scripts/${n}.ts`)),
  outdir: path.join(out, 'assets'),
  plugins: [clientAsServed],
});

// The service worker is a classic script (iife), served at /sw.js so its scope is the whole site.
await build({ ...common, format: 'iife', entryPoints: [path.join(root, 'src/web/scripts/sw.ts')], outfile: path.join(out, 'sw.js') });

fs.cpSync(path.join(root, 'src/web/pages'), path.join(out, 'pages'), { recursive: true });

const client = fs.readFileSync(path.join(out, 'client/flashwire.js'));
console.log(`web: client ${client.length} B minified, ${zlib.gzipSync(client, { level: 9 }).length} B gzipped -> dist/web`);
