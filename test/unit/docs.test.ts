import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES } from '../../src/diagnostic.js';
import { ExitCode } from '../../src/exit-codes.js';

describe('documentation matches the code', () => {
  it('README lists exactly the exit codes of src/exit-codes.ts', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Safety and privacy'));
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    const defined = Object.values(ExitCode).filter((v): v is number => typeof v === 'number');
    expect(documented.sort((a, b) => a - b)).toEqual(defined.sort((a, b) => a - b));
  });

  it('docs/diagnostics.md documents every diagnostic code with its severity', () => {
    const doc = readFileSync('docs/diagnostics.md', 'utf8');
    for (const [code, info] of Object.entries(CODES)) {
      expect(doc, code).toContain(`| \`${code}\` | ${info.severity} |`);
    }
    const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(CODES).sort());
  });
});
