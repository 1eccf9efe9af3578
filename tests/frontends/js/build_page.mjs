// Bundle page/app.jsx (React, @ai-sdk/react, ai) into one script with esbuild: no CDN.
// usage: node build_page.mjs OUTFILE
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const [outfile] = process.argv.slice(2);
await build({
  entryPoints: [fileURLToPath(new URL('./page/app.jsx', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  minify: true,
  outfile,
  logLevel: 'error',
});
