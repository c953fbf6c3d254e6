/** The roster formats roster-as-code reads and writes. */
export type RosterFormat = 'oneroster-csv' | 'oneroster-zip' | 'yaml' | 'oneroster-api';
