/**
 * The OneRoster rostering entities roster-as-code models, their fields and their CSV columns per
 * version. This table drives the CSV reader and writer, the roster YAML, validation and the
 * generator: a field's rules live here once.
 *
 * Sources: ../shared/oneroster.md (the project's digest of the OneRoster 1.1 and 1.2 CSV bindings).
 */

export type RosterVersion = '1.1' | '1.2';
export const ROSTER_VERSIONS: readonly RosterVersion[] = ['1.1', '1.2'];

export type EntityName =
  | 'orgs'
  | 'academicSessions'
  | 'courses'
  | 'classes'
  | 'users'
  | 'enrollments'
  | 'demographics'
  | 'roles'
  | 'userProfiles';

/** Entities in dependency order (an entity only references entities before it, or itself). */
export const ENTITY_NAMES: readonly EntityName[] = [
  'orgs',
  'academicSessions',
  'courses',
  'classes',
  'users',
  'userProfiles',
  'roles',
  'enrollments',
  'demographics',
];

export type FieldType =
  | 'guid'
  | 'status'
  | 'datetime'
  | 'string'
  | 'enum'
  | 'date'
  | 'year'
  | 'boolean'
  | 'ref'
  | 'refList'
  | 'list'
  | 'grades'
  | 'userIds'
  | 'email';

export interface FieldSpec {
  readonly type: FieldType;
  /** Required in every mode. (`status` and `dateLastModified` are governed by the file mode instead.) */
  readonly required?: boolean;
  /** For `ref` and `refList`: the entity referenced. */
  readonly ref?: EntityName;
  /** For `enum`: allowed values per version; 1.2 vocabularies marked `extensible` also take `ext:Foo`. */
  readonly values?: { readonly '1.1': readonly string[]; readonly '1.2': readonly string[] };
  readonly extensible?: boolean;
  /**
   * For list types: `set` lists carry no meaning in their order and are stored sorted, so that
   * reordering them is never a change; `ordered` lists keep their order (subjects pair with
   * subjectCodes by position).
   */
  readonly order?: 'set' | 'ordered';
  /** Personal data: never printed in diagnostics, masked in plans by default. */
  readonly pii?: boolean;
}

export interface EntitySpec {
  readonly name: EntityName;
  /** File name in a OneRoster package (case-sensitive). */
  readonly file: string;
  readonly versions: readonly RosterVersion[];
  /** Fields in canonical order (the union of all versions' columns). */
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** CSV header columns in spec order, per version. */
  readonly columns: Readonly<Partial<Record<RosterVersion, readonly string[]>>>;
  /** 1.0-style column names still seen in exports, and the field they stand for. */
  readonly legacyColumns?: Readonly<Record<string, string>>;
}

const STATUS: FieldSpec = { type: 'status' };
const DLM: FieldSpec = { type: 'datetime' };
const GUID: FieldSpec = { type: 'guid', required: true };
const BOOL: FieldSpec = { type: 'boolean' };
const PII_BOOL: FieldSpec = { type: 'boolean', pii: true };
const str = (required = false, pii = false): FieldSpec => ({ type: 'string', required, pii });
const ref = (entity: EntityName, required = false): FieldSpec => ({ type: 'ref', ref: entity, required });
const refList = (entity: EntityName, required = false): FieldSpec => ({
  type: 'refList',
  ref: entity,
  required,
  order: 'set',
});
const same = (values: readonly string[]) => ({ '1.1': values, '1.2': values });

const CEDS_GRADES = [
  'IT',
  'PR',
  'PK',
  'TK',
  'KG',
  '01',
  '02',
  '03',
  '04',
  '05',
  '06',
  '07',
  '08',
  '09',
  '10',
  '11',
  '12',
  '13',
  'PS',
  'UG',
  'Other',
];
/** CEDS v5 "Entry Grade Level" codes: the 1.1 vocabulary, and the usual one for US 1.2 deployments. */
export const GRADE_LEVELS: readonly string[] = CEDS_GRADES;

const LIFECYCLE = ['sourcedId', 'status', 'dateLastModified'] as const;

const orgs: EntitySpec = {
  name: 'orgs',
  file: 'orgs.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    name: str(true),
    type: {
      type: 'enum',
      required: true,
      values: same(['department', 'school', 'district', 'local', 'state', 'national']),
      extensible: true,
    },
    identifier: str(),
    parentSourcedId: ref('orgs'),
  },
  columns: same([...LIFECYCLE, 'name', 'type', 'identifier', 'parentSourcedId']),
};

const academicSessions: EntitySpec = {
  name: 'academicSessions',
  file: 'academicSessions.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    title: str(true),
    type: {
      type: 'enum',
      required: true,
      values: same(['gradingPeriod', 'semester', 'schoolYear', 'term']),
      extensible: true,
    },
    startDate: { type: 'date', required: true },
    endDate: { type: 'date', required: true },
    parentSourcedId: ref('academicSessions'),
    schoolYear: { type: 'year', required: true },
  },
  columns: same([...LIFECYCLE, 'title', 'type', 'startDate', 'endDate', 'parentSourcedId', 'schoolYear']),
};

const courses: EntitySpec = {
  name: 'courses',
  file: 'courses.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    schoolYearSourcedId: ref('academicSessions'),
    title: str(true),
    courseCode: str(),
    grades: { type: 'grades', order: 'set' },
    orgSourcedId: ref('orgs', true),
    subjects: { type: 'list', order: 'ordered' },
    subjectCodes: { type: 'list', order: 'ordered' },
  },
  columns: same([
    ...LIFECYCLE,
    'schoolYearSourcedId',
    'title',
    'courseCode',
    'grades',
    'orgSourcedId',
    'subjects',
    'subjectCodes',
  ]),
  legacyColumns: { grade: 'grades', schoolYearId: 'schoolYearSourcedId' },
};

const classes: EntitySpec = {
  name: 'classes',
  file: 'classes.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    title: str(true),
    grades: { type: 'grades', order: 'set' },
    courseSourcedId: ref('courses', true),
    classCode: str(),
    classType: { type: 'enum', required: true, values: same(['homeroom', 'scheduled']), extensible: true },
    location: str(),
    schoolSourcedId: ref('orgs', true),
    termSourcedIds: refList('academicSessions', true),
    subjects: { type: 'list', order: 'ordered' },
    subjectCodes: { type: 'list', order: 'ordered' },
    periods: { type: 'list', order: 'set' },
  },
  columns: same([
    ...LIFECYCLE,
    'title',
    'grades',
    'courseSourcedId',
    'classCode',
    'classType',
    'location',
    'schoolSourcedId',
    'termSourcedIds',
    'subjects',
    'subjectCodes',
    'periods',
  ]),
  legacyColumns: { grade: 'grades', termSourcedId: 'termSourcedIds' },
};

/** 1.1 `users.role`. */
export const USER_ROLES_11 = [
  'administrator',
  'aide',
  'guardian',
  'parent',
  'proctor',
  'relative',
  'student',
  'teacher',
];
/** 1.2 `roles.role`. */
export const USER_ROLES_12 = [
  'aide',
  'counselor',
  'districtAdministrator',
  'guardian',
  'parent',
  'principal',
  'proctor',
  'relative',
  'siteAdministrator',
  'student',
  'systemAdministrator',
  'teacher',
];

const USERS_12_HEAD = [
  ...LIFECYCLE,
  'enabledUser',
  'username',
  'userIds',
  'givenName',
  'familyName',
  'middleName',
  'identifier',
  'email',
  'sms',
  'phone',
  'agentSourcedIds',
  'grades',
  'password',
  'userMasterIdentifier',
];
const USERS_12_TAIL = [
  'preferredGivenName',
  'preferredMiddleName',
  'preferredFamilyName',
  'primaryOrgSourcedId',
  'pronouns',
];
/** The 1.2 Final (2022) users header: 23 columns, with `resourceSourcedIds`. Accepted on input. */
export const USERS_12_FINAL_COLUMNS: readonly string[] = [
  ...USERS_12_HEAD,
  'resourceSourcedIds',
  ...USERS_12_TAIL,
];

const users: EntitySpec = {
  name: 'users',
  file: 'users.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    enabledUser: { type: 'boolean', required: true },
    orgSourcedIds: refList('orgs'),
    role: { type: 'enum', values: { '1.1': USER_ROLES_11, '1.2': USER_ROLES_12 } },
    username: str(true, true),
    userIds: { type: 'userIds', order: 'set', pii: true },
    givenName: str(true, true),
    familyName: str(true, true),
    middleName: str(false, true),
    identifier: str(false, true),
    email: { type: 'email', pii: true },
    sms: str(false, true),
    phone: str(false, true),
    agentSourcedIds: refList('users'),
    grades: { type: 'grades', order: 'set' },
    password: str(false, true),
    userMasterIdentifier: str(false, true),
    resourceSourcedIds: { type: 'list', order: 'set' },
    preferredGivenName: str(false, true),
    preferredMiddleName: str(false, true),
    preferredFamilyName: str(false, true),
    primaryOrgSourcedId: ref('orgs'),
    pronouns: str(false, true),
  },
  columns: {
    '1.1': [
      ...LIFECYCLE,
      'enabledUser',
      'orgSourcedIds',
      'role',
      'username',
      'userIds',
      'givenName',
      'familyName',
      'middleName',
      'identifier',
      'email',
      'sms',
      'phone',
      'agentSourcedIds',
      'grades',
      'password',
    ],
    // The 1.2.1 shape (22 columns) is the one written.
    '1.2': [...USERS_12_HEAD, ...USERS_12_TAIL],
  },
  legacyColumns: { userId: 'userIds', agents: 'agentSourcedIds' },
};

const enrollments: EntitySpec = {
  name: 'enrollments',
  file: 'enrollments.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    classSourcedId: ref('classes', true),
    schoolSourcedId: ref('orgs', true),
    userSourcedId: ref('users', true),
    role: {
      type: 'enum',
      required: true,
      values: same(['administrator', 'proctor', 'student', 'teacher']),
      extensible: true,
    },
    primary: BOOL,
    beginDate: { type: 'date' },
    endDate: { type: 'date' },
  },
  columns: same([
    ...LIFECYCLE,
    'classSourcedId',
    'schoolSourcedId',
    'userSourcedId',
    'role',
    'primary',
    'beginDate',
    'endDate',
  ]),
};

const demographics: EntitySpec = {
  name: 'demographics',
  file: 'demographics.csv',
  versions: ['1.1', '1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    birthDate: { type: 'date', pii: true },
    sex: {
      type: 'enum',
      values: { '1.1': ['male', 'female'], '1.2': ['male', 'female', 'unspecified', 'other'] },
      extensible: true,
      pii: true,
    },
    americanIndianOrAlaskaNative: PII_BOOL,
    asian: PII_BOOL,
    blackOrAfricanAmerican: PII_BOOL,
    nativeHawaiianOrOtherPacificIslander: PII_BOOL,
    white: PII_BOOL,
    demographicRaceTwoOrMoreRaces: PII_BOOL,
    hispanicOrLatinoEthnicity: PII_BOOL,
    countryOfBirthCode: str(false, true),
    stateOfBirthAbbreviation: str(false, true),
    cityOfBirth: str(false, true),
    publicSchoolResidenceStatus: str(false, true),
  },
  columns: same([
    ...LIFECYCLE,
    'birthDate',
    'sex',
    'americanIndianOrAlaskaNative',
    'asian',
    'blackOrAfricanAmerican',
    'nativeHawaiianOrOtherPacificIslander',
    'white',
    'demographicRaceTwoOrMoreRaces',
    'hispanicOrLatinoEthnicity',
    'countryOfBirthCode',
    'stateOfBirthAbbreviation',
    'cityOfBirth',
    'publicSchoolResidenceStatus',
  ]),
  legacyColumns: { userSourcedId: 'sourcedId', birthdate: 'birthDate' },
};

const roles: EntitySpec = {
  name: 'roles',
  file: 'roles.csv',
  versions: ['1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    userSourcedId: ref('users', true),
    roleType: { type: 'enum', required: true, values: same(['primary', 'secondary']) },
    role: { type: 'enum', required: true, values: { '1.1': [], '1.2': USER_ROLES_12 }, extensible: true },
    beginDate: { type: 'date' },
    endDate: { type: 'date' },
    orgSourcedId: ref('orgs', true),
    userProfileSourcedId: ref('userProfiles'),
  },
  columns: {
    '1.2': [
      ...LIFECYCLE,
      'userSourcedId',
      'roleType',
      'role',
      'beginDate',
      'endDate',
      'orgSourcedId',
      'userProfileSourcedId',
    ],
  },
};

const userProfiles: EntitySpec = {
  name: 'userProfiles',
  file: 'userProfiles.csv',
  versions: ['1.2'],
  fields: {
    sourcedId: GUID,
    status: STATUS,
    dateLastModified: DLM,
    userSourcedId: ref('users', true),
    profileType: str(true),
    vendorId: str(true),
    applicationId: str(),
    description: str(),
    credentialType: str(true),
    username: str(true, true),
    password: str(false, true),
  },
  columns: {
    '1.2': [
      ...LIFECYCLE,
      'userSourcedId',
      'profileType',
      'vendorId',
      'applicationId',
      'description',
      'credentialType',
      'username',
      'password',
    ],
  },
};

export const ENTITIES: Readonly<Record<EntityName, EntitySpec>> = {
  orgs,
  academicSessions,
  courses,
  classes,
  users,
  enrollments,
  demographics,
  roles,
  userProfiles,
};

/** Every data file a manifest lists, per version (rostering, resources and gradebook). */
export const MANIFEST_FILES: Readonly<Record<RosterVersion, readonly string[]>> = {
  '1.1': [
    'academicSessions',
    'categories',
    'classes',
    'classResources',
    'courses',
    'courseResources',
    'demographics',
    'enrollments',
    'lineItems',
    'orgs',
    'resources',
    'results',
    'users',
  ],
  '1.2': [
    'academicSessions',
    'categories',
    'classes',
    'classResources',
    'courses',
    'courseResources',
    'demographics',
    'enrollments',
    'lineItemLearningObjectiveIds',
    'lineItems',
    'lineItemScoreScales',
    'orgs',
    'resources',
    'resultLearningObjectiveIds',
    'results',
    'resultScoreScales',
    'roles',
    'scoreScales',
    'userProfiles',
    'userResources',
    'users',
  ],
};

export function isEntityName(name: string): name is EntityName {
  return Object.hasOwn(ENTITIES, name);
}

/** Entities that exist in a version, in dependency order. */
export function entitiesOf(version: RosterVersion): EntityName[] {
  return ENTITY_NAMES.filter((e) => ENTITIES[e].versions.includes(version));
}

export function fieldNames(entity: EntityName): string[] {
  return Object.keys(ENTITIES[entity].fields);
}

export function isListType(type: FieldType): boolean {
  return type === 'refList' || type === 'list' || type === 'grades' || type === 'userIds';
}
