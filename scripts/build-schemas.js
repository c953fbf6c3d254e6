// Writes the JSON Schemas that are generated from the code (run after `npm run build`).
// test/unit/schemas.test.ts fails when a committed schema differs from what this writes.
import { writeFileSync } from 'node:fs';
import { buildRosterSchema } from '../dist/formats/yaml/schema.js';

writeFileSync(new URL('../schemas/roster.schema.json', import.meta.url), `${JSON.stringify(buildRosterSchema(), null, 2)}\n`);
console.log('wrote schemas/roster.schema.json');
