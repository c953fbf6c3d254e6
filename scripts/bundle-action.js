/**
 * Bundles the GitHub Action (dist/action/index.js and the workers it starts) into action/dist/,
 * committed so that `uses: OWNER/roster-as-code@v1` runs without npm install. Run after
 * `npm run build`; test/unit/action/action.test.ts checks that the committed bundle is current.
 * The bundle sits two folders below the repository's root, as dist/<folder>/ does, so that the
 * sources' `new URL('../../schemas/...', import.meta.url)` find the schemas and package.json.
 * Usage: node scripts/bundle-action.js [OUT_DIR]
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'rolldown';

const out = resolve(process.argv[2] ?? 'action/dist');
// CommonJS dependencies (ssh2, undici's helpers) expect these in an ES module.
const banner = [
  "import { createRequire as __roster_createRequire } from 'node:module';",
  "import { fileURLToPath as __roster_fileURLToPath } from 'node:url';",
  "import { dirname as __roster_dirname } from 'node:path';",
  'const require = __roster_createRequire(import.meta.url);',
  'const __filename = __roster_fileURLToPath(import.meta.url);',
  'const __dirname = __roster_dirname(__filename);',
].join('\n');

rmSync(out, { recursive: true, force: true });
await build({
  input: {
    index: 'dist/action/index.js',
    // Started with new URL('./<name>.js', import.meta.url): kept under the same names.
    'load-worker': 'dist/source/load-worker.js',
    'keyed-files-worker': 'dist/source/keyed-files-worker.js',
  },
  platform: 'node',
  // Native add-ons are optional (ssh2 falls back to JavaScript crypto without them).
  external: [/\.node$/],
  logLevel: 'warn',
  output: { dir: out, format: 'esm', banner, minify: false, sourcemap: false },
});
