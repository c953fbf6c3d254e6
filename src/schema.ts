/**
 * JSON Schema validation (ajv), loaded when a schema is first compiled: most commands never
 * validate a document against a schema, and loading ajv costs every start ~40 ms.
 */
import { createRequire } from 'node:module';
import type { Options, ValidateFunction } from 'ajv';

export type { ErrorObject, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** Compiles `schema` with a new ajv instance made with `options`. */
export function compileSchema(schema: object, options: Options): ValidateFunction {
  const { Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv(options).compile(schema);
}
