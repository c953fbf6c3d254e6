// Writes oclif.manifest.json after `tsc` (part of `npm run build`). With it, oclif finds a
// command without importing every command module first: ~0.3 s less at the start of each
// command (0.43 s -> 0.17 s for `roster --version`). It is what `oclif manifest` writes, made
// with @oclif/core's own Plugin class, so that the `oclif` CLI need not be installed.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
