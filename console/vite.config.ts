import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Builds the console into console/dist, served by Irin under /console/ (src/console/assets.ts).
 * `html.cspNonce` writes a placeholder that the server replaces with a fresh nonce per response.
 * `npx vite --config console/vite.config.ts` serves it for development, proxying the APIs to a
 * local Irin on :9470.
 */
const irin = process.env.IRIN_URL ?? 'http://127.0.0.1:9470';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [react()],
  html: { cspNonce: '__IRIN_CSP_NONCE__' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      '/api': irin,
      '/prometheus': irin,
      '/loki': { target: irin, ws: true },
    },
  },
});
