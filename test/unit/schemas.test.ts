import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRosterSchema } from '../../src/formats/yaml/schema.js';

describe('committed JSON Schemas', () => {
  it('schemas/roster.schema.json is what the code generates (run `npm run schemas` after changing the model)', () => {
    const committed = JSON.parse(readFileSync('schemas/roster.schema.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildRosterSchema())));
  });
});
