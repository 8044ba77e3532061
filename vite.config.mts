import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The renderer: Svelte 5, built to dist/renderer, served by the desktop app's scheme and by the
// browser build's HTTP server. Relative base, so both can serve it from their own origin.
// It may import only the contract and the common functions of src-main, and only through these
// aliases (src-renderer/tsconfig.json's `paths` says the same to svelte-check).
export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [svelte()],
  resolve: {
    alias: {
      $contract: fileURLToPath(new URL('./src-main/contract', import.meta.url)),
      $common: fileURLToPath(new URL('./src-main/common', import.meta.url)),
    },
  },
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles: the CSP allows only the app's own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
