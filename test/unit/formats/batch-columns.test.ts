/**
 * The batch column mapping is stated once (formats/batch/batch.ts): rows written from a record
 * read back to the same fields, and the import preset mappings/batch.yaml maps the same columns
 * to the same fields.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BATCH_CLASS_FIELDS,
  BATCH_USER_FIELDS,
  classCells,
  fieldsOfCells,
  userCells,
} from '../../../src/formats/batch/batch.js';

describe('the batch column mapping', () => {
  it('reads back what it writes', () => {
    const user = {
      sourcedId: 'stu-1',
      role: 'student',
      username: 'ada',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@example.org',
      grades: '09',
    };
    const klass = {
      sourcedId: 'cls-1',
      title: 'Algebra I',
      grades: '09',
      courseSourcedId: 'crs-1',
      termSourcedIds: 't1',
    };
    const row = { ...userCells(user, 'sch-1'), ...classCells(klass) };
    expect(row).toMatchObject({
      org_sis_id: 'sch-1',
      user_sis_id: 'stu-1',
      firstName: 'Ada',
      className: 'Algebra I',
    });
    expect(fieldsOfCells(BATCH_USER_FIELDS, row)).toEqual(user);
    expect(fieldsOfCells(BATCH_CLASS_FIELDS, row)).toEqual(klass);
  });

  it('is the one the import preset mappings/batch.yaml uses', () => {
    const preset = parse(readFileSync('mappings/batch.yaml', 'utf8')) as {
      records: { entity: string; from: string; fields: Record<string, string | { column?: string }> }[];
    };
    const column = (value: string | { column?: string } | undefined) =>
      typeof value === 'string' ? /^\{(\w+)\}$/.exec(value)?.[1] : value?.column;
    for (const [entity, columns] of [
      ['users', BATCH_USER_FIELDS],
      ['classes', BATCH_CLASS_FIELDS],
    ] as const) {
      const fields = preset.records.find((r) => r.entity === entity && r.from === 'users')!.fields;
      for (const [name, field] of Object.entries(columns))
        expect(column(fields[field]), `${entity}.${field}`).toBe(name);
    }
  });
});
