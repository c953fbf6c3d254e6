/**
 * Builds the JSON Schema of roster YAML from the entity table (schemas/roster.schema.json is this
 * output, committed for editors; a test keeps it in step). The schema checks structure: which keys
 * exist where, lists versus mappings. Values are checked by the field rules, with better messages.
 */
import { ENTITIES, type EntityName, type FieldSpec, isListType } from '../../model/entities.js';
import { CLASS_ENROLLMENT_LISTS, EXTENSIONS_KEY, TOP_LEVEL_LISTS } from './shape.js';

type Schema = Record<string, unknown>;

const SCALAR: Schema = { type: ['string', 'number'] };
const LIST_ITEM: Schema = { type: ['string', 'number'], pattern: '^[^,]*$' };

function fieldSchema(spec: FieldSpec): Schema {
  if (isListType(spec.type)) {
    return {
      if: { type: 'array' },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
      then: { type: 'array', items: LIST_ITEM },
      else: { type: ['string', 'number'] },
    };
  }
  if (spec.type === 'boolean') return { type: ['boolean', 'string'] };
  if (spec.type === 'enum' && spec.values) {
    const values = [...new Set([...spec.values['1.1'], ...spec.values['1.2']])];
    // The enum gives editors completion; any string passes here, and the field rules say what is wrong.
    return { anyOf: [{ enum: values }, { type: 'string' }] };
  }
  return SCALAR;
}

const EXTENSIONS: Schema = {
  type: 'object',
  description: 'Extension columns, by their CSV header name (e.g. metadata.homeClass).',
  additionalProperties: SCALAR,
};

function recordSchema(
  entity: EntityName,
  omit: readonly string[] = [],
  extra: Record<string, Schema> = {},
): Schema {
  const properties: Record<string, Schema> = {};
  for (const [name, spec] of Object.entries(ENTITIES[entity].fields)) {
    if (!omit.includes(name)) properties[name] = fieldSchema(spec);
  }
  Object.assign(properties, extra, { [EXTENSIONS_KEY]: EXTENSIONS });
  return {
    type: 'object',
    properties,
    required: omit.includes('sourcedId') ? [] : ['sourcedId'],
    additionalProperties: false,
  };
}

const list = (items: Schema): Schema => ({ type: 'array', items });

export function buildRosterSchema(): Schema {
  const enrollmentObject = recordSchema('enrollments', ['classSourcedId', 'role']);
  (enrollmentObject as { required: string[] }).required = ['userSourcedId'];
  const enrollmentItem: Schema = {
    if: { type: 'object' },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
    then: { $ref: '#/definitions/enrollmentInClass' },
    else: { type: ['string', 'number'], description: 'The sourcedId of the enrolled user.' },
  };
  const classLists = Object.fromEntries(
    Object.keys(CLASS_ENROLLMENT_LISTS).map((k) => [k, list(enrollmentItem)]),
  );
  const roleInUser = recordSchema('roles', ['userSourcedId', 'sourcedId']);
  const profileInUser = recordSchema('userProfiles', ['userSourcedId']);
  (profileInUser as { required: string[] }).required = ['sourcedId'];
  const userExtra = {
    demographics: { $ref: '#/definitions/demographicsInUser' },
    roles: list({ $ref: '#/definitions/roleInUser' }),
    userProfiles: list({ $ref: '#/definitions/userProfileInUser' }),
  };
  const school = recordSchema('orgs', ['type'], {
    courses: list({ $ref: '#/definitions/course' }),
    classes: list({ $ref: '#/definitions/class' }),
    staff: list({ $ref: '#/definitions/user' }),
    students: list({ $ref: '#/definitions/user' }),
  });
  const topLevel = Object.fromEntries(
    TOP_LEVEL_LISTS.map((e) => [
      e,
      list({
        $ref: `#/definitions/${e === 'classes' ? 'class' : e === 'users' ? 'user' : e === 'courses' ? 'course' : e}`,
      }),
    ]),
  );
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://roster-as-code.dev/schemas/roster.schema.json',
    title: 'roster YAML',
    description:
      'A district roster for roster-as-code: OneRoster records grouped by school. Field names are OneRoster CSV column names.',
    type: 'object',
    properties: {
      oneroster: {
        enum: ['1.1', '1.2', 1.1, 1.2],
        description: 'The OneRoster version the roster is written against.',
      },
      source: {
        type: 'object',
        properties: { systemName: SCALAR, systemCode: SCALAR },
        additionalProperties: false,
      },
      files: {
        type: 'object',
        description:
          'File modes as a manifest states them, where they differ from the default (bulk when records exist).',
        properties: Object.fromEntries(
          Object.keys(ENTITIES).map((e) => [e, { enum: ['bulk', 'delta', 'absent'] }]),
        ),
        additionalProperties: false,
      },
      extensionColumns: {
        type: 'object',
        description: 'Extension columns per entity, in CSV order (kept even when every value is empty).',
        properties: Object.fromEntries(Object.keys(ENTITIES).map((e) => [e, list({ type: 'string' })])),
        additionalProperties: false,
      },
      schools: list({ $ref: '#/definitions/school' }),
      ...topLevel,
    },
    additionalProperties: false,
    definitions: {
      school,
      orgs: recordSchema('orgs'),
      academicSessions: recordSchema('academicSessions'),
      course: recordSchema('courses'),
      class: recordSchema('classes', [], classLists),
      enrollmentInClass: enrollmentObject,
      user: recordSchema('users', [], userExtra),
      demographicsInUser: recordSchema('demographics', ['sourcedId']),
      roleInUser: { ...roleInUser, properties: { ...(roleInUser.properties as object), sourcedId: SCALAR } },
      userProfileInUser: profileInUser,
      enrollments: recordSchema('enrollments'),
      demographics: recordSchema('demographics'),
      roles: recordSchema('roles'),
      userProfiles: recordSchema('userProfiles'),
    },
  };
}
