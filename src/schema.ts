/**
 * JSON Schema validation (ajv). Imported statically so that the GitHub Action's bundle carries
 * ajv (a runtime `require` would look for a node_modules the Action does not have).
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';

export type { ErrorObject, ValidateFunction } from 'ajv';

/** Compiles `schema` with a new ajv instance made with `options`. */
export function compileSchema(schema: object, options: Options): ValidateFunction {
  return new Ajv(options).compile(schema);
}
