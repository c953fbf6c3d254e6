import { createRequire as __roster_createRequire } from 'node:module';
import { fileURLToPath as __roster_fileURLToPath } from 'node:url';
import { dirname as __roster_dirname } from 'node:path';
const require = __roster_createRequire(import.meta.url);
const __filename = __roster_fileURLToPath(import.meta.url);
const __dirname = __roster_dirname(__filename);
import { isUtf8 } from "node:buffer";
import { createHash, hash } from "node:crypto";

// dist/model/byte-hash.js
/**
* A 32-bit hash of a byte range (FNV-1a with a murmur3 finalizer), for the typed-array indexes and
* as a cheap first test of record equality. Not a fingerprint: equal hashes are always confirmed
* by comparing the bytes.
*/
function hashBytes(bytes, start, end, seed = 2166136261) {
	let h = seed;
	for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 16777619);
	return mix32(h);
}
/** The murmur3 finalizer: spreads every input bit over the output. */
function mix32(h) {
	h ^= h >>> 16;
	h = Math.imul(h, 2246822507);
	h ^= h >>> 13;
	h = Math.imul(h, 3266489909);
	return (h ^ h >>> 16) >>> 0;
}
/** A 32-bit hash of a string's UTF-8 bytes. */
function hashString(text, seed) {
	const bytes = Buffer.from(text, "utf8");
	return hashBytes(bytes, 0, bytes.length, seed);
}
/** True when two byte ranges hold the same bytes. */
function sameBytes(a, aStart, aEnd, b, bStart, bEnd) {
	const n = aEnd - aStart;
	if (n !== bEnd - bStart) return false;
	if (n <= 256) {
		for (let k = 0; k < n; k++) if (a[aStart + k] !== b[bStart + k]) return false;
		return true;
	}
	return Buffer.compare(a.subarray(aStart, aEnd), b.subarray(bStart, bEnd)) === 0;
}
/** Byte order of two ranges (as Buffer.compare): negative, zero or positive. */
function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
	const n = Math.min(aEnd - aStart, bEnd - bStart);
	for (let k = 0; k < n; k++) {
		const d = a[aStart + k] - b[bStart + k];
		if (d !== 0) return d;
	}
	return aEnd - aStart - (bEnd - bStart);
}

// dist/model/entities.js
/** Entities in dependency order (an entity only references entities before it, or itself). */
const ENTITY_NAMES = [
	"orgs",
	"academicSessions",
	"courses",
	"classes",
	"users",
	"userProfiles",
	"roles",
	"enrollments",
	"demographics"
];
const STATUS = { type: "status" };
const DLM = { type: "datetime" };
const GUID = {
	type: "guid",
	required: true
};
const BOOL = { type: "boolean" };
const PII_BOOL = {
	type: "boolean",
	pii: true
};
const str = (required = false, pii = false) => ({
	type: "string",
	required,
	pii
});
const ref = (entity, required = false) => ({
	type: "ref",
	ref: entity,
	required
});
const refList = (entity, required = false) => ({
	type: "refList",
	ref: entity,
	required,
	order: "set"
});
const same = (values) => ({
	"1.1": values,
	"1.2": values
});
const CEDS_GRADES = [
	"IT",
	"PR",
	"PK",
	"TK",
	"KG",
	"01",
	"02",
	"03",
	"04",
	"05",
	"06",
	"07",
	"08",
	"09",
	"10",
	"11",
	"12",
	"13",
	"PS",
	"UG",
	"Other"
];
/** CEDS v5 "Entry Grade Level" codes: the 1.1 vocabulary, and the usual one for US 1.2 deployments. */
const GRADE_LEVELS = CEDS_GRADES;
const LIFECYCLE = [
	"sourcedId",
	"status",
	"dateLastModified"
];
const orgs = {
	name: "orgs",
	file: "orgs.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		name: str(true),
		type: {
			type: "enum",
			required: true,
			values: same([
				"department",
				"school",
				"district",
				"local",
				"state",
				"national"
			]),
			extensible: true
		},
		identifier: str(),
		parentSourcedId: ref("orgs")
	},
	columns: same([
		...LIFECYCLE,
		"name",
		"type",
		"identifier",
		"parentSourcedId"
	])
};
const academicSessions = {
	name: "academicSessions",
	file: "academicSessions.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		title: str(true),
		type: {
			type: "enum",
			required: true,
			values: same([
				"gradingPeriod",
				"semester",
				"schoolYear",
				"term"
			]),
			extensible: true
		},
		startDate: {
			type: "date",
			required: true
		},
		endDate: {
			type: "date",
			required: true
		},
		parentSourcedId: ref("academicSessions"),
		schoolYear: {
			type: "year",
			required: true
		}
	},
	columns: same([
		...LIFECYCLE,
		"title",
		"type",
		"startDate",
		"endDate",
		"parentSourcedId",
		"schoolYear"
	])
};
const courses = {
	name: "courses",
	file: "courses.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		schoolYearSourcedId: ref("academicSessions"),
		title: str(true),
		courseCode: str(),
		grades: {
			type: "grades",
			order: "set"
		},
		orgSourcedId: ref("orgs", true),
		subjects: {
			type: "list",
			order: "ordered"
		},
		subjectCodes: {
			type: "list",
			order: "ordered"
		}
	},
	columns: same([
		...LIFECYCLE,
		"schoolYearSourcedId",
		"title",
		"courseCode",
		"grades",
		"orgSourcedId",
		"subjects",
		"subjectCodes"
	]),
	legacyColumns: {
		grade: "grades",
		schoolYearId: "schoolYearSourcedId"
	}
};
const classes = {
	name: "classes",
	file: "classes.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		title: str(true),
		grades: {
			type: "grades",
			order: "set"
		},
		courseSourcedId: ref("courses", true),
		classCode: str(),
		classType: {
			type: "enum",
			required: true,
			values: same(["homeroom", "scheduled"]),
			extensible: true
		},
		location: str(),
		schoolSourcedId: ref("orgs", true),
		termSourcedIds: refList("academicSessions", true),
		subjects: {
			type: "list",
			order: "ordered"
		},
		subjectCodes: {
			type: "list",
			order: "ordered"
		},
		periods: {
			type: "list",
			order: "set"
		}
	},
	columns: same([
		...LIFECYCLE,
		"title",
		"grades",
		"courseSourcedId",
		"classCode",
		"classType",
		"location",
		"schoolSourcedId",
		"termSourcedIds",
		"subjects",
		"subjectCodes",
		"periods"
	]),
	legacyColumns: {
		grade: "grades",
		termSourcedId: "termSourcedIds"
	}
};
/** 1.1 `users.role`. */
const USER_ROLES_11 = [
	"administrator",
	"aide",
	"guardian",
	"parent",
	"proctor",
	"relative",
	"student",
	"teacher"
];
/** 1.2 `roles.role`. */
const USER_ROLES_12 = [
	"aide",
	"counselor",
	"districtAdministrator",
	"guardian",
	"parent",
	"principal",
	"proctor",
	"relative",
	"siteAdministrator",
	"student",
	"systemAdministrator",
	"teacher"
];
const USERS_12_HEAD = [
	...LIFECYCLE,
	"enabledUser",
	"username",
	"userIds",
	"givenName",
	"familyName",
	"middleName",
	"identifier",
	"email",
	"sms",
	"phone",
	"agentSourcedIds",
	"grades",
	"password",
	"userMasterIdentifier"
];
const USERS_12_TAIL = [
	"preferredGivenName",
	"preferredMiddleName",
	"preferredFamilyName",
	"primaryOrgSourcedId",
	"pronouns"
];
/** The 1.2 Final (2022) users header: 23 columns, with `resourceSourcedIds`. Accepted on input. */
const USERS_12_FINAL_COLUMNS = [
	...USERS_12_HEAD,
	"resourceSourcedIds",
	...USERS_12_TAIL
];
const users = {
	name: "users",
	file: "users.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		enabledUser: {
			type: "boolean",
			required: true
		},
		orgSourcedIds: refList("orgs"),
		role: {
			type: "enum",
			values: {
				"1.1": USER_ROLES_11,
				"1.2": USER_ROLES_12
			}
		},
		username: str(true, true),
		userIds: {
			type: "userIds",
			order: "set",
			pii: true
		},
		givenName: str(true, true),
		familyName: str(true, true),
		middleName: str(false, true),
		identifier: str(false, true),
		email: {
			type: "email",
			pii: true
		},
		sms: str(false, true),
		phone: str(false, true),
		agentSourcedIds: refList("users"),
		grades: {
			type: "grades",
			order: "set"
		},
		password: str(false, true),
		userMasterIdentifier: str(false, true),
		resourceSourcedIds: {
			type: "list",
			order: "set"
		},
		preferredGivenName: str(false, true),
		preferredMiddleName: str(false, true),
		preferredFamilyName: str(false, true),
		primaryOrgSourcedId: ref("orgs"),
		pronouns: str(false, true)
	},
	columns: {
		"1.1": [
			...LIFECYCLE,
			"enabledUser",
			"orgSourcedIds",
			"role",
			"username",
			"userIds",
			"givenName",
			"familyName",
			"middleName",
			"identifier",
			"email",
			"sms",
			"phone",
			"agentSourcedIds",
			"grades",
			"password"
		],
		"1.2": [...USERS_12_HEAD, ...USERS_12_TAIL]
	},
	legacyColumns: {
		userId: "userIds",
		agents: "agentSourcedIds"
	}
};
const enrollments = {
	name: "enrollments",
	file: "enrollments.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		classSourcedId: ref("classes", true),
		schoolSourcedId: ref("orgs", true),
		userSourcedId: ref("users", true),
		role: {
			type: "enum",
			required: true,
			values: same([
				"administrator",
				"proctor",
				"student",
				"teacher"
			]),
			extensible: true
		},
		primary: BOOL,
		beginDate: { type: "date" },
		endDate: { type: "date" }
	},
	columns: same([
		...LIFECYCLE,
		"classSourcedId",
		"schoolSourcedId",
		"userSourcedId",
		"role",
		"primary",
		"beginDate",
		"endDate"
	])
};
const demographics = {
	name: "demographics",
	file: "demographics.csv",
	versions: ["1.1", "1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		birthDate: {
			type: "date",
			pii: true
		},
		sex: {
			type: "enum",
			values: {
				"1.1": ["male", "female"],
				"1.2": [
					"male",
					"female",
					"unspecified",
					"other"
				]
			},
			extensible: true,
			pii: true
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
		publicSchoolResidenceStatus: str(false, true)
	},
	columns: same([
		...LIFECYCLE,
		"birthDate",
		"sex",
		"americanIndianOrAlaskaNative",
		"asian",
		"blackOrAfricanAmerican",
		"nativeHawaiianOrOtherPacificIslander",
		"white",
		"demographicRaceTwoOrMoreRaces",
		"hispanicOrLatinoEthnicity",
		"countryOfBirthCode",
		"stateOfBirthAbbreviation",
		"cityOfBirth",
		"publicSchoolResidenceStatus"
	]),
	legacyColumns: {
		userSourcedId: "sourcedId",
		birthdate: "birthDate"
	}
};
const roles = {
	name: "roles",
	file: "roles.csv",
	versions: ["1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		userSourcedId: ref("users", true),
		roleType: {
			type: "enum",
			required: true,
			values: same(["primary", "secondary"])
		},
		role: {
			type: "enum",
			required: true,
			values: {
				"1.1": [],
				"1.2": USER_ROLES_12
			},
			extensible: true
		},
		beginDate: { type: "date" },
		endDate: { type: "date" },
		orgSourcedId: ref("orgs", true),
		userProfileSourcedId: ref("userProfiles")
	},
	columns: { "1.2": [
		...LIFECYCLE,
		"userSourcedId",
		"roleType",
		"role",
		"beginDate",
		"endDate",
		"orgSourcedId",
		"userProfileSourcedId"
	] }
};
const userProfiles = {
	name: "userProfiles",
	file: "userProfiles.csv",
	versions: ["1.2"],
	fields: {
		sourcedId: GUID,
		status: STATUS,
		dateLastModified: DLM,
		userSourcedId: ref("users", true),
		profileType: str(true),
		vendorId: str(true),
		applicationId: str(),
		description: str(),
		credentialType: str(true),
		username: str(true, true),
		password: str(false, true)
	},
	columns: { "1.2": [
		...LIFECYCLE,
		"userSourcedId",
		"profileType",
		"vendorId",
		"applicationId",
		"description",
		"credentialType",
		"username",
		"password"
	] }
};
const ENTITIES = {
	orgs,
	academicSessions,
	courses,
	classes,
	users,
	enrollments,
	demographics,
	roles,
	userProfiles
};
/** Every data file a manifest lists, per version (rostering, resources and gradebook). */
const MANIFEST_FILES = {
	"1.1": [
		"academicSessions",
		"categories",
		"classes",
		"classResources",
		"courses",
		"courseResources",
		"demographics",
		"enrollments",
		"lineItems",
		"orgs",
		"resources",
		"results",
		"users"
	],
	"1.2": [
		"academicSessions",
		"categories",
		"classes",
		"classResources",
		"courses",
		"courseResources",
		"demographics",
		"enrollments",
		"lineItemLearningObjectiveIds",
		"lineItems",
		"lineItemScoreScales",
		"orgs",
		"resources",
		"resultLearningObjectiveIds",
		"results",
		"resultScoreScales",
		"roles",
		"scoreScales",
		"userProfiles",
		"userResources",
		"users"
	]
};
/** Entities that exist in a version, in dependency order. */
function entitiesOf(version) {
	return ENTITY_NAMES.filter((e) => ENTITIES[e].versions.includes(version));
}
function fieldNames(entity) {
	return Object.keys(ENTITIES[entity].fields);
}
function isListType(type) {
	return type === "refList" || type === "list" || type === "grades" || type === "userIds";
}

// dist/model/fingerprint.js
/**
* Fingerprints. A record's fingerprint is stable across formats, versions, column order and list
* order: SHA-1 (first 16 hex digits) over `name=value` pairs of its non-empty normalized fields,
* sorted by name, excluding `dateLastModified` (a delivery timestamp, not content). Format version 1.
* The roster's fingerprint (version 2) is independent of record order, made of faster hashes.
*/
/** The roster fingerprint's own version (see fingerprintRoster). */
const ROSTER_FINGERPRINT_VERSION = 2;
/**
* The same fingerprint from parallel arrays of field names (sorted by name) and values: what
* RecordTable uses to fingerprint a stored record without building an object for it.
*/
function fingerprintValues(sortedNames, values) {
	let text = "";
	for (let i = 0; i < sortedNames.length; i++) {
		const value = values[i];
		const name = sortedNames[i];
		if (value === void 0 || value === "" || name === "dateLastModified") continue;
		text += text === "" ? `${name}=${value}` : `\n${name}=${value}`;
	}
	return hash("sha1", text, "hex").slice(0, 16);
}
/**
* A fingerprint of the whole roster: equal rosters (in any record or column order, from any
* format) give equal fingerprints. Roster fingerprint version 2: per entity, the mode, the record
* count and RecordTable.contentSums (fast hashes of the stored values) instead of version 1's
* SHA-1 of every record, which took seconds at city scale.
*/
function fingerprintRoster(roster) {
	return fingerprintFromSums(roster.version, roster.entities().map((entity) => {
		const table = roster.table(entity);
		const [a, b] = table.contentSums();
		return {
			entity,
			mode: roster.mode(entity),
			size: table.size,
			sums: [a, b]
		};
	}));
}
/** fingerprintRoster from the tables' sums (the incremental plan updates them rather than reading every record). */
function fingerprintFromSums(version, tables) {
	const digest = createHash("sha256");
	digest.update(`v${2} ${version}\n`);
	for (const { entity, mode, size, sums } of tables) digest.update(`${entity} ${mode} ${size} ${sums[0].toString(16)} ${sums[1].toString(16)}\n`);
	return digest.digest("hex").slice(0, 32);
}

// dist/model/normalize.js
/**
* Normalization: the one canonical spelling of every value, so that two rosters that mean the
* same thing are equal and fingerprint the same. Validation looks at raw values first (to report
* `TRUE` or ` 09` where they stand); the Roster only ever holds normalized values.
*/
const CONTROL = /[\u0000-\u001f]/g;
function splitList(value) {
	if (value === "") return [];
	return value.split(",").map((v) => v.trim()).filter((v) => v !== "");
}
function normalizeValue(spec, raw) {
	const value = raw.replace(CONTROL, "").trim();
	if (value === "" || spec === void 0) return value;
	if (isListType(spec.type)) {
		const items = splitList(value);
		if (spec.order === "set") return [...new Set(items)].sort().join(",");
		return items.join(",");
	}
	switch (spec.type) {
		case "boolean": {
			const lower = value.toLowerCase();
			return lower === "true" || lower === "false" ? lower : value;
		}
		case "status": {
			const lower = value.toLowerCase();
			if (lower === "inactive") return "tobedeleted";
			return lower === "active" || lower === "tobedeleted" ? lower : value;
		}
		case "enum": return (spec.values ? [...spec.values["1.1"], ...spec.values["1.2"]] : []).find((v) => v.toLowerCase() === value.toLowerCase()) ?? value;
		case "datetime":
			if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
				const t = Date.parse(value);
				if (!Number.isNaN(t)) return new Date(t).toISOString();
			}
			return value;
		default: return value;
	}
}
/** Normalizes every value of a record of `entity`; extension fields are trimmed only. */
function normalizeRecord(entity, record) {
	const fields = ENTITIES[entity].fields;
	const out = {};
	for (const [name, raw] of Object.entries(record)) setField(out, name, normalizeValue(Object.hasOwn(fields, name) ? fields[name] : void 0, raw));
	return out;
}
/**
* Sets a field of a record built from input. A column named `__proto__` (from a file) becomes an
* own property: plain assignment would try to replace the object's prototype and drop the value.
*/
function setField(record, field, value) {
	if (field === "__proto__") Object.defineProperty(record, field, {
		value,
		enumerable: true,
		writable: true,
		configurable: true
	});
	else record[field] = value;
}

// dist/model/record-table.js
/**
* Compact storage for the records of one entity. A large district has ~10M enrollments; holding
* each as a JS object (or even one JS string) would cost hundreds of bytes apiece and keep the
* garbage collector busy, so records live as UTF-8 bytes in large buffers (an arena, outside the
* JS heap): each record's normalized values in `fields` order, joined by U+001F (the ASCII unit
* separator, which normalization strips from values), trailing empty values dropped. Per record
* the table keeps only numbers in typed arrays: where its bytes are, a 32-bit hash of them, and
* where it was read from (~22 bytes). Records are decoded on demand.
*
* All of it is shared memory (SharedArrayBuffer): a table read on a worker thread can be read on
* the main one at once, while the worker goes on reading it too (see share). Once shared, a table
* is only read; appending to it afterwards moves it to fresh memory on that side.
*/
/** An empty range, to be filled by RecordTable.locate (one per loop, reused for every record). */
function byteRange() {
	return {
		buffer: EMPTY,
		start: 0,
		end: 0
	};
}
const EMPTY = Buffer.alloc(0);
/** The separator between a record's values. */
const SEPARATOR = 31;
const SEP = "";
const CHUNK_BYTES = 4 << 20;
/** Numbers kept per record in RecordTable's `meta`. */
const META = 4;
/** Numbers in RecordTable's shared `sums`, and their first one's states (0: not computed). */
const SUMS = 4;
const SUMS_BEING_COMPUTED = 1;
const SUMS_DONE = 2;
/** A zero-filled typed array of `length` elements in shared memory (postMessage shares it, never copies). */
function sharedArray(kind, length) {
	return new kind(new SharedArrayBuffer(length * kind.BYTES_PER_ELEMENT));
}
function grow$1(array, needed) {
	if (needed <= array.length) return array;
	const kind = array.constructor;
	const next = sharedArray(kind, Math.max(needed, array.length * 2));
	next.set(array);
	return next;
}
var RecordTable = class RecordTable {
	entity;
	/** Model fields first, then extension columns (`metadata.*` and others) in first-seen order. */
	fields;
	fieldIndex = /* @__PURE__ */ new Map();
	count = 0;
	chunks = [];
	chunk = Buffer.alloc(0);
	used = 0;
	/**
	* Per record, META numbers side by side: the chunk holding its bytes, their offset and length,
	* and a 32-bit hash of them. Together they fill 16 bytes of one cache line, so diagnostic a record
	* (a hash-table probe, at random over millions) costs one memory access here, not four.
	*/
	meta = sharedArray(Uint32Array, 256);
	files = [];
	originFile = sharedArray(Uint16Array, 64);
	/** 0: no origin known. */
	originLine = sharedArray(Uint32Array, 64);
	/** contentSums, shared by the threads the table is shared with: [state, sum A, sum B, size]. */
	sums = sharedArray(Int32Array, SUMS);
	constructor(entity) {
		this.entity = entity;
		this.fields = fieldNames(entity);
		for (const [i, f] of this.fields.entries()) this.fieldIndex.set(f, i);
	}
	get size() {
		return this.count;
	}
	/** Extension columns (not part of the OneRoster model) seen in this table. */
	get extensionFields() {
		return this.fields.slice(fieldNames(this.entity).length);
	}
	/** Makes sure a field exists (an extension column seen in a header), even when all its values are empty. */
	declareField(name) {
		if (this.fieldIndex.has(name)) return;
		this.fieldIndex.set(name, this.fields.length);
		this.fields.push(name);
	}
	/** The position of `name` in `fields`, or -1. */
	fieldIndexOf(name) {
		return this.fieldIndex.get(name) ?? -1;
	}
	/**
	* Room for a record of at most `maxBytes` bytes: write it into `writeBuffer` from the offset
	* returned, then call endRecord with where it ends. (The readers' fast path: no string is made.)
	*/
	beginRecord(maxBytes) {
		if (this.chunks.length === 0 || this.used + maxBytes > this.chunk.length) {
			if (this.chunks.length >= 65535) throw new RangeError(`${this.entity}: too many records`);
			this.chunk = Buffer.from(new SharedArrayBuffer(Math.max(CHUNK_BYTES, maxBytes)));
			this.chunks.push(this.chunk);
			this.used = 0;
		}
		return this.used;
	}
	/** The buffer beginRecord made room in. */
	get writeBuffer() {
		return this.chunk;
	}
	/** Ends the record begun at beginRecord's offset; trailing separators are dropped. Returns its index. */
	endRecord(end, fileId = -1, line = 0) {
		const start = this.used;
		const buf = this.chunk;
		while (end > start && buf[end - 1] === 31) end--;
		const i = this.count++;
		if (META * i >= this.meta.length) this.reserve(i + 1);
		const m = META * i;
		const meta = this.meta;
		meta[m] = this.chunks.length - 1;
		meta[m + 1] = start;
		meta[m + 2] = end - start;
		meta[m + 3] = hashBytes(buf, start, end);
		if (fileId >= 0) {
			this.originFile[i] = fileId;
			this.originLine[i] = line;
		}
		this.used = end;
		return i;
	}
	reserve(n) {
		this.meta = grow$1(this.meta, META * n);
		this.originFile = grow$1(this.originFile, n);
		this.originLine = grow$1(this.originLine, n);
	}
	/** The id to pass to endRecord for records read from `file`. */
	fileId(file) {
		let f = this.files.lastIndexOf(file);
		if (f < 0) f = this.files.push(file) - 1;
		return f;
	}
	addJoined(text, origin) {
		const at = this.beginRecord(text.length * 3);
		const written = this.chunk.write(text, at, "utf8");
		return this.endRecord(at + written, origin ? this.fileId(origin.file) : -1, origin?.line ?? 0);
	}
	/**
	* Adds a record given as normalized values aligned with `fields` (missing trailing values are
	* empty). No object is built for the row.
	*/
	addValues(values, origin) {
		return this.addJoined(values.join(SEP), origin);
	}
	/** Adds a record whose values are already normalized. Returns its index. */
	add(record, origin) {
		const values = new Array(this.fields.length).fill("");
		for (const [name, value] of Object.entries(record)) {
			if (value === "") continue;
			let i = this.fieldIndex.get(name);
			if (i === void 0) {
				i = this.fields.length;
				this.fields.push(name);
				this.fieldIndex.set(name, i);
				values.push("");
			}
			values[i] = value;
		}
		return this.addValues(values, origin);
	}
	/** Grows by one whenever records are taken back (what was indexed may no longer be there). */
	get generation() {
		return this.truncations;
	}
	truncations = 0;
	/** Drops every record from index `size` on (a reader abandoning a file it reads again). */
	truncate(size) {
		if (size >= this.count) return;
		this.truncations++;
		Atomics.store(this.sums, 0, 0);
		this.count = size;
		const m = META * (size - 1);
		const c = size === 0 ? -1 : this.meta[m];
		this.chunks.length = c + 1;
		this.chunk = c < 0 ? Buffer.alloc(0) : this.chunks[c];
		this.used = c < 0 ? 0 : this.meta[m + 1] + this.meta[m + 2];
	}
	/**
	* Memory: the per-record numbers (typed arrays, with their spare room), the records' bytes, and
	* the buffers holding them (4 MiB each: a small table's is mostly empty).
	*/
	get footprint() {
		const arrays = [
			this.meta,
			this.originFile,
			this.originLine
		];
		let dataBytes = 0;
		for (let i = 0; i < this.count; i++) dataBytes += this.meta[META * i + 2];
		return {
			indexBytes: arrays.reduce((n, a) => n + a.byteLength, 0),
			dataBytes,
			bufferBytes: this.chunks.reduce((n, c) => n + c.length, 0)
		};
	}
	/** The buffer holding record `index`, and where in it the record starts and ends. */
	locate(index, out) {
		if (index >= this.count) throw new RangeError(`no record ${index} in ${this.entity}`);
		const m = META * index;
		const meta = this.meta;
		out.buffer = this.chunks[meta[m]];
		out.start = meta[m + 1];
		out.end = out.start + meta[m + 2];
		return out;
	}
	/**
	* Narrows `out` (a located record) to the value at field position `position`; false when the
	* record has no such value (it is empty).
	*/
	static narrow(out, position) {
		const { buffer } = out;
		const end = out.end;
		let s = out.start;
		for (let k = 0; k < position; k++) {
			while (s < end && buffer[s] !== 31) s++;
			if (s >= end) {
				out.start = end;
				return false;
			}
			s++;
		}
		let e = s;
		while (e < end && buffer[e] !== 31) e++;
		out.start = s;
		out.end = e;
		return e > s;
	}
	ascending;
	/**
	* True when every record has a value at `field` and the values rise strictly in byte order
	* with the record number (a file sorted by id). Found by one pass over the records, remembered.
	*/
	ascendingBy(field) {
		const known = this.ascending;
		if (known && known.field === field && known.size === this.count && known.generation === this.truncations) return known.result;
		const position = this.fieldIndexOf(field);
		let result = position >= 0;
		let previous = byteRange();
		let r = byteRange();
		for (let i = 0; i < this.count && result; i++) {
			if (!RecordTable.narrow(this.locate(i, r), position)) result = false;
			else if (i > 0 && compareBytes(previous.buffer, previous.start, previous.end, r.buffer, r.start, r.end) >= 0) result = false;
			[previous, r] = [r, previous];
		}
		this.ascending = {
			field,
			size: this.count,
			generation: this.truncations,
			result
		};
		return result;
	}
	/**
	* Tells the table what ascendingBy(field) answers, known from elsewhere: the incremental plan's
	* cache, bound to the very snapshot this table was read from (a city's check takes ~0.5 s).
	*/
	knowAscending(field, result) {
		this.ascending = {
			field,
			size: this.count,
			generation: this.truncations,
			result
		};
	}
	/** A 32-bit hash of the record's stored bytes. */
	hashOf(index) {
		return this.meta[META * index + 3];
	}
	/**
	* True when record `index` is stored exactly as record `j` of `other` (same values in the same
	* field order). Two tables with the same `fields` store equal records as equal bytes.
	*/
	sameStored(index, other, j) {
		const a3 = META * index + 3;
		const b3 = META * j + 3;
		if (this.meta[a3] !== other.meta[b3] || this.meta[a3 - 1] !== other.meta[b3 - 1]) return false;
		const a = this.locate(index, scratchA);
		const b = other.locate(j, scratchB);
		return sameBytes(a.buffer, a.start, a.end, b.buffer, b.start, b.end);
	}
	/**
	* Whether record `index` and `other`'s record `j`, of the same fields in the same order, hold
	* the same values but perhaps at field position `skip` (-1: none). What equal fingerprints say
	* when dateLastModified is skipped, without hashing either.
	*/
	sameValuesBut(index, other, j, skip) {
		const a = this.stored(index).split(SEP);
		const b = other.stored(j).split(SEP);
		for (let k = 0, n = Math.max(a.length, b.length); k < n; k++) if (k !== skip && (a[k] ?? "") !== (b[k] ?? "")) return false;
		return true;
	}
	/** The record as stored (normalized values in `fields` order, trailing empties dropped). */
	stored(index) {
		const r = this.locate(index, scratchA);
		return r.buffer.toString("utf8", r.start, r.end);
	}
	/** The record's values in `fields` order (trailing empty values may be missing): one split, no object. */
	values(index) {
		return this.stored(index).split(SEP);
	}
	sortedOrder;
	/** The record's fingerprint (as fingerprintRecord(get(index))), without decoding it to an object. */
	fingerprint(index) {
		if (!this.sortedOrder || this.sortedOrder.index.length !== this.fields.length) {
			const index = this.fields.map((_, i) => i).sort((a, b) => this.fields[a] < this.fields[b] ? -1 : 1);
			this.sortedOrder = {
				names: index.map((i) => this.fields[i]),
				index
			};
		}
		const parts = this.stored(index).split(SEP);
		const { names, index: order } = this.sortedOrder;
		const values = new Array(order.length);
		for (let k = 0; k < order.length; k++) values[k] = parts[order[k]] ?? "";
		return fingerprintValues(names, values);
	}
	/**
	* Two 32-bit lanes summing, over every record, a hash of its content that does not depend on
	* the table's field order or on dateLastModified: per non-empty value, a hash of its bytes seeded
	* by its field's name. Equal records give equal sums whatever their layout or order. (What
	* fingerprintRoster is made of: ~1 ns per byte, no string per record.)
	*/
	contentSums() {
		const sums = this.sums;
		let waited = 0;
		for (;;) {
			const state = Atomics.load(sums, 0);
			if (state === SUMS_DONE && sums[3] === this.count) return [sums[1] >>> 0, sums[2] >>> 0];
			if (state === SUMS_BEING_COMPUTED) {
				if (waited++ < 600) Atomics.wait(sums, 0, SUMS_BEING_COMPUTED, 100);
				else return this.computeContentSums();
				continue;
			}
			if (Atomics.compareExchange(sums, 0, state, SUMS_BEING_COMPUTED) !== state) continue;
			const [a, b] = this.computeContentSums();
			sums[1] = a | 0;
			sums[2] = b | 0;
			sums[3] = this.count;
			Atomics.store(sums, 0, SUMS_DONE);
			Atomics.notify(sums, 0);
			return [a, b];
		}
	}
	computeContentSums() {
		const seedA = Int32Array.from(this.fields, (f) => hashString(f, 608135816));
		const seedB = Int32Array.from(this.fields, (f) => hashString(f, 2242054355));
		const skip = Uint8Array.from(this.fields, (f) => f === "dateLastModified" ? 1 : 0);
		let sumA = 0;
		let sumB = 0;
		const r = scratchA;
		for (let i = 0; i < this.count; i++) {
			this.locate(i, r);
			const { buffer, end } = r;
			let a = 0;
			let b = 0;
			let f = 0;
			let s = r.start;
			let ha = seedA[0];
			let hb = seedB[0];
			for (let p = s; p < end; p++) {
				const byte = buffer[p];
				if (byte !== 31) {
					ha = Math.imul(ha ^ byte, 16777619);
					hb = Math.imul(hb ^ byte, 16777619);
					continue;
				}
				if (p > s && skip[f] === 0) {
					a = a + mix32(ha) | 0;
					b = b + mix32(hb) | 0;
				}
				f++;
				s = p + 1;
				ha = seedA[f];
				hb = seedB[f];
			}
			if (end > s && skip[f] === 0) {
				a = a + mix32(ha) | 0;
				b = b + mix32(hb) | 0;
			}
			sumA = sumA + mix32(a) | 0;
			sumB = sumB + mix32(b ^ 1540483477) | 0;
		}
		return [sumA >>> 0, sumB >>> 0];
	}
	/** The record at `index`, with every field of the table present ('' when empty). */
	get(index) {
		const parts = this.stored(index).split(SEP);
		const record = {};
		for (let i = 0; i < this.fields.length; i++) record[this.fields[i]] = parts[i] ?? "";
		const proto = this.fieldIndex.get("__proto__");
		if (proto !== void 0) setField(record, "__proto__", parts[proto] ?? "");
		return record;
	}
	/** One field of the record at `index`, without decoding the others. */
	value(index, field) {
		const position = this.fieldIndex.get(field);
		if (position === void 0) return "";
		const r = this.locate(index, scratchA);
		if (!RecordTable.narrow(r, position)) return "";
		return r.buffer.toString("utf8", r.start, r.end);
	}
	origin(index) {
		const line = this.originLine[index];
		if (!line || index >= this.count) return void 0;
		return {
			file: this.files[this.originFile[index]],
			line
		};
	}
	/**
	* The table as plain data for another thread (postMessage): views of its shared memory, so
	* nothing is copied and the table stays usable here. Neither side may append to the records
	* shared (appending after this point is safe: it grows into fresh memory on that side).
	*/
	share() {
		const n = this.count;
		this.used = this.chunk.length;
		return {
			entity: this.entity,
			fields: [...this.fields],
			count: n,
			chunks: this.chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.length)),
			meta: this.meta.subarray(0, META * n),
			files: [...this.files],
			originFile: this.originFile.subarray(0, n),
			originLine: this.originLine.subarray(0, n),
			sums: this.sums
		};
	}
	/** A table over share()'s data (received from another thread). */
	static fromShared(data) {
		const table = new RecordTable(data.entity);
		for (const f of data.fields) table.declareField(f);
		table.count = data.count;
		table.chunks.push(...data.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
		table.chunk = table.chunks[table.chunks.length - 1] ?? Buffer.alloc(0);
		table.used = table.chunk.length;
		const n = data.count;
		const view = (kind, a) => new kind(a.buffer, a.byteOffset, n);
		table.meta = new Uint32Array(data.meta.buffer, data.meta.byteOffset, META * n);
		table.files.push(...data.files);
		table.originFile = view(Uint16Array, data.originFile);
		table.originLine = view(Uint32Array, data.originLine);
		if (data.sums) table.sums = new Int32Array(data.sums.buffer, data.sums.byteOffset, SUMS);
		return table;
	}
	*[Symbol.iterator]() {
		for (let i = 0; i < this.count; i++) yield this.get(i);
	}
};
const scratchA = byteRange();
const scratchB = byteRange();

// dist/formats/csv/scan-csv.js
/**
* The fast path for reading CSV: a byte scanner for the files OneRoster producers actually write
* (UTF-8, one record per line, quotes only around values with commas). It finds the fields of a
* line in its bytes and hands their positions over without making strings, which is what lets a
* 10M-row enrollments.csv be read at several hundred MiB/s (PapaParse, the general parser, reads
* ~110 MiB/s; docs/csv-parser.md).
*
* The scanner never guesses: at the first thing outside that shape (bytes that are not UTF-8, a
* quoted value running over a line break, a stray or unclosed quote) it stops and says so, and the
* caller reads the file again with the general parser, which reports the problem exactly.
*/
const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
/** Splits a line with quotes (RFC 4180); undefined when a quote is out of place or unclosed. */
function splitQuotedLine(text) {
	const cells = [];
	let i = 0;
	for (;;) if (text.charCodeAt(i) === QUOTE) {
		let value = "";
		let from = i + 1;
		for (;;) {
			const q = text.indexOf("\"", from);
			if (q < 0) return void 0;
			if (text.charCodeAt(q + 1) === QUOTE) {
				value += text.slice(from, q + 1);
				from = q + 2;
				continue;
			}
			value += text.slice(from, q);
			i = q + 1;
			break;
		}
		cells.push(value);
		if (i === text.length) return cells;
		if (text.charCodeAt(i) !== COMMA) return void 0;
		i++;
	} else {
		const comma = text.indexOf(",", i);
		const end = comma < 0 ? text.length : comma;
		const value = text.slice(i, end);
		if (value.includes("\"")) return void 0;
		cells.push(value);
		if (comma < 0) return cells;
		i = comma + 1;
	}
}
/**
* Whether splitQuotedLine takes the line in bytes [start, end): the same rule, read on the bytes
* without making a string (a quote or a comma is never part of a longer UTF-8 character).
*/
function quotesTaken(bytes, start, end) {
	let i = start;
	for (;;) if (i < end && bytes[i] === QUOTE) {
		let q = i + 1;
		for (;;) {
			while (q < end && bytes[q] !== QUOTE) q++;
			if (q >= end) return false;
			if (q + 1 < end && bytes[q + 1] === QUOTE) {
				q += 2;
				continue;
			}
			break;
		}
		i = q + 1;
		if (i === end) return true;
		if (bytes[i] !== COMMA) return false;
		i++;
	} else {
		while (i < end && bytes[i] !== COMMA) {
			if (bytes[i] === QUOTE) return false;
			i++;
		}
		if (i >= end) return true;
		i++;
	}
}
/** Scans `input` line by line. Stops (and destroys the stream) on the first fallback reason. */
async function scanCsv(input, handler) {
	const row = {
		bytes: Buffer.alloc(0),
		starts: /* @__PURE__ */ new Int32Array(64),
		ends: /* @__PURE__ */ new Int32Array(64),
		count: 0,
		cells: void 0,
		unusual: false
	};
	let carry;
	const pending = [];
	let pendingBytes = 0;
	let line = 1;
	let rows = 0;
	let first = true;
	let sawContent = false;
	let lastByte = -1;
	const stop = (reason) => {
		input.destroy();
		return {
			kind: "fallback",
			reason
		};
	};
	for await (const piece of input) {
		let chunk = piece;
		if (chunk.length === 0) continue;
		lastByte = chunk[chunk.length - 1];
		if (first) {
			first = false;
			if (chunk[0] === 255 && chunk[1] === 254 || chunk[0] === 254 && chunk[1] === 255) return stop("UTF-16");
			if (chunk[0] === 239 && chunk[1] === 187 && chunk[2] === 191) chunk = chunk.subarray(3);
		}
		if (chunk.indexOf(LF) < 0) {
			pending.push(chunk);
			pendingBytes += chunk.length;
			continue;
		}
		if (pending.length > 0) {
			if (carry) pending.unshift(carry);
			carry = Buffer.concat(pending, pendingBytes + (carry?.length ?? 0));
			pending.length = 0;
			pendingBytes = 0;
		}
		const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
		const lastLf = buf.lastIndexOf(LF);
		if (!isUtf8(buf.subarray(0, lastLf + 1))) return stop("not UTF-8");
		let start = 0;
		while (start <= lastLf) {
			const lf = buf.indexOf(LF, start);
			const reason = scanLine(buf, start, lf > start && buf[lf - 1] === CR ? lf - 1 : lf, row);
			if (reason === "blank") {} else if (reason !== void 0) return stop(reason);
			else {
				sawContent = true;
				rows++;
				handler.row(row, line);
			}
			line++;
			start = lf + 1;
		}
		carry = lastLf + 1 < buf.length ? Buffer.from(buf.subarray(lastLf + 1)) : void 0;
	}
	if (pending.length > 0) carry = Buffer.concat(carry ? [carry, ...pending] : pending);
	if (carry && carry.length > 0) {
		if (!isUtf8(carry)) return stop("not UTF-8");
		const end = carry[carry.length - 1] === CR ? carry.length - 1 : carry.length;
		const reason = scanLine(carry, 0, end, row);
		if (reason !== void 0 && reason !== "blank") return stop(reason);
		if (reason === void 0) {
			sawContent = true;
			rows++;
			handler.row(row, line);
		}
	}
	return {
		kind: "done",
		rows,
		empty: !sawContent,
		finalNewline: lastByte === LF
	};
}
/** Finds the fields of bytes [start, end). Returns 'blank', a fallback reason, or undefined. */
function scanLine(buf, start, end, row) {
	let starts = row.starts;
	let ends = row.ends;
	let n = 0;
	let unusual = false;
	let quoted = false;
	let blank = true;
	starts[0] = start;
	for (let p = start; p < end; p++) {
		const b = buf[p];
		if (b === COMMA) {
			ends[n] = p;
			n++;
			if (n + 1 >= starts.length) {
				starts = grow(starts);
				ends = grow(ends);
				row.starts = starts;
				row.ends = ends;
			}
			starts[n] = p + 1;
			blank = false;
		} else if (b === QUOTE) {
			quoted = true;
			break;
		} else if (b <= 32) {
			if (b === CR) return "a carriage return inside a line";
			if (b !== 32) unusual = true;
		} else blank = false;
	}
	row.bytes = buf;
	if (quoted) {
		const cells = splitQuotedLine(buf.toString("utf8", start, end));
		if (!cells) return "a quote the fast reader does not handle";
		if (cells.length === 1 && cells[0].trim() === "") return "blank";
		row.cells = cells;
		row.count = cells.length;
		row.unusual = true;
		return;
	}
	if (blank) return "blank";
	if (n === 0 && buf.toString("utf8", start, end).trim() === "") return "blank";
	ends[n] = end;
	row.count = n + 1;
	row.cells = void 0;
	row.unusual = unusual;
}
function grow(a) {
	const next = new Int32Array(a.length * 2);
	next.set(a);
	return next;
}

export { sameBytes as C, hashString as S, USERS_12_FINAL_COLUMNS as _, byteRange as a, compareBytes as b, normalizeValue as c, fingerprintFromSums as d, fingerprintRoster as f, MANIFEST_FILES as g, GRADE_LEVELS as h, RecordTable as i, setField as l, ENTITY_NAMES as m, scanCsv as n, sharedArray as o, ENTITIES as p, splitQuotedLine as r, normalizeRecord as s, quotesTaken as t, splitList as u, entitiesOf as v, hashBytes as x, isListType as y };