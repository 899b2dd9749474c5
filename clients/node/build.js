// Compiles src/ to dist/ (JS and .d.ts) with the TypeScript compiler found
// in this folder's or the repository's node_modules, so `npm pack` here
// needs nothing installed beyond the repository's own `npm ci`.
'use strict';
process.argv.splice(2, process.argv.length, '-p', require('node:path').join(__dirname, 'tsconfig.json'));
require('typescript/lib/tsc.js');
