import { defineConfig } from 'vitest/config';

// `npm run acceptance`: checks against the public OneRoster samples in ../shared/data/oneroster
// (GPL-licensed sets are read in place, never copied into this repository).
export default defineConfig({
  test: { include: ['test/acceptance/**/*.test.ts'], testTimeout: 60_000 },
});
