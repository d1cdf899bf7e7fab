import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * Builds the dashboard into dist/web. The server's CSP allows only same-origin scripts and
 * styles, so the build must emit no inline script or style (Vite links both as files).
 */
export default defineConfig({
  root: webRoot,
  base: '/',
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  // Preact's automatic JSX runtime through Vite's own Oxc transform; no framework plugin needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Inlined assets would become data: URLs, which the CSP does not list.
    assetsInlineLimit: 0,
    // The preload polyfill is only needed by browsers older than the es2022 target.
    modulePreload: { polyfill: false },
  },
});
