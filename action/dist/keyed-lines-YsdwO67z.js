import { createRequire as __roster_createRequire } from 'node:module';
import { fileURLToPath as __roster_fileURLToPath } from 'node:url';
import { dirname as __roster_dirname } from 'node:path';
const require = __roster_createRequire(import.meta.url);
const __filename = __roster_fileURLToPath(import.meta.url);
const __dirname = __roster_dirname(__filename);
import { a as byteRange, b as compareBytes, i as RecordTable, r as splitQuotedLine, t as quotesTaken } from "./scan-csv-BbICWrJu.js";
import { isUtf8 } from "node:buffer";

// dist/model/gallop.js
/**
* Galloping search: the first position of an ascending sequence that is not below what is looked
* for, found by growing steps from where the search starts, then halving. A search that starts
* near its answer (keys looked for in ascending order, each a little past the one before) takes
* a few steps, and reads nearby memory, where halving the whole sequence would miss the caches at
* every step of a large file.
*/
/**
* The first position in [from, n) whose item is not below the one looked for, or n. `below(i)`:
* item i is below it (false for every position from the answer on). Every item before `from`
* must be below it.
*/
function gallop(from, n, below) {
	let low = from;
	let high = from;
	for (let step = 1; high < n && below(high); step *= 2) {
		low = high + 1;
		high = Math.min(n, low + step);
	}
	return halve(low, high, below);
}
/**
* The first position in [low, high) whose item is not below the one looked for, or high, by
* halving: for a search that may land anywhere (galloping there from the start would take twice
* the steps). Every item before `low` must be below it, and the item at `high` (if any) not.
*/
function halve(low, high, below) {
	while (low < high) {
		const middle = low + high >>> 1;
		if (below(middle)) low = middle + 1;
		else high = middle;
	}
	return low;
}
/**
* Keys looked for one after another in an ascending sequence: each from where the one before was
* found, by galloping; a key below that one anywhere, by halving. Keys asked in ascending order
* take a few steps each; any order works.
*/
var OrderedSearch = class {
	/** Every item before it is below the last key looked for. */
	from = 0;
	/** The position of the item equal to the key, or -1. `compare(i)`: item i's order to the key. */
	find(n, compare) {
		const below = (i) => compare(i) < 0;
		const at = this.from > 0 && this.from <= n && below(this.from - 1) ? gallop(this.from, n, below) : halve(0, n, below);
		this.from = at;
		if (at < n && compare(at) === 0) {
			this.from = at + 1;
			return at;
		}
		return -1;
	}
};

// dist/model/key-sort.js
/**
* Sorting records by key bytes, fast enough for a city: a roster whose rows are in no order is
* matched against a target sorted by key by sorting the roster's keys and walking both side by
* side (see plan/compute.ts), instead of looking ten million keys up at random in an index
* (~1 us each: cache and TLB misses). A comparison sort of 8M keys in JavaScript takes seconds;
* this one packs the 8 bytes after the keys' common prefix into two numbers, radix-sorts those
* (LSD, 11-bit digits: passes over typed arrays, no comparisons), and compares whole keys only
* where the packed bytes tie.
*/
const DIGIT_BITS = 11;
const BUCKETS = 2048;
const MASK = 2047;
/** 64 bits in 11-bit digits. */
const PASSES = 6;
/**
* Sorts `records` (indexes into `table`, each with a value at field `position`) in place, in
* ascending byte order of that value (compareBytes order), equal values by record index; returns
* it.
*/
function sortByKey(table, position, records) {
	return sortByKeys({ keyOf: (record, out) => void RecordTable.narrow(table.locate(record, out), position) }, records);
}
/** Sorts `items` in place by the keys `source` gives, as sortByKey does; returns it. */
function sortByKeys(source, items) {
	sortRun(source, items, -1);
	return items;
}
/** Runs of tied records shorter than this are settled by comparing whole keys. */
const SMALL_RUN = 16;
/**
* Sorts `records` in place. `known`: how many leading bytes a caller already found them to
* share (-1: none known); a run that shares no more than that is settled by whole-key comparison.
*/
function sortRun(source, records, known) {
	const n = records.length;
	if (n < 2) return;
	const r = byteRange();
	const first = byteRange();
	source.keyOf(records[0], first);
	let common = first.end - first.start;
	for (let k = 1; k < n && common > 0; k++) {
		source.keyOf(records[k], r);
		const limit = Math.min(common, r.end - r.start);
		let same = 0;
		while (same < limit && r.buffer[r.start + same] === first.buffer[first.start + same]) same++;
		common = same;
	}
	if (common <= known) {
		sortWhole(source, records);
		return;
	}
	let index = records;
	let hi = new Uint32Array(n);
	let lo = new Uint32Array(n);
	for (let k = 0; k < n; k++) {
		source.keyOf(index[k], r);
		const { buffer, end } = r;
		const s = r.start + common;
		hi[k] = byteAt(buffer, s, end) << 24 | byteAt(buffer, s + 1, end) << 16 | byteAt(buffer, s + 2, end) << 8 | byteAt(buffer, s + 3, end);
		lo[k] = byteAt(buffer, s + 4, end) << 24 | byteAt(buffer, s + 5, end) << 16 | byteAt(buffer, s + 6, end) << 8 | byteAt(buffer, s + 7, end);
	}
	const counts = new Int32Array(PASSES * BUCKETS);
	for (let k = 0; k < n; k++) {
		const h = hi[k];
		const l = lo[k];
		counts[l & MASK]++;
		counts[BUCKETS + (l >>> 11 & MASK)]++;
		counts[2 * BUCKETS + ((l >>> 22 | h << 10) & MASK)]++;
		counts[3 * BUCKETS + (h >>> 1 & MASK)]++;
		counts[4 * BUCKETS + (h >>> 12 & MASK)]++;
		counts[5 * BUCKETS + (h >>> 23 & MASK)]++;
	}
	let nextIndex = new Int32Array(n);
	let nextHi = new Uint32Array(n);
	let nextLo = new Uint32Array(n);
	for (let pass = 0; pass < PASSES; pass++) {
		const at = pass * BUCKETS;
		let every = false;
		let sum = 0;
		for (let b = at; b < at + BUCKETS; b++) {
			const c = counts[b];
			if (c === n) every = true;
			counts[b] = sum;
			sum += c;
		}
		if (every) continue;
		const bit = pass * DIGIT_BITS;
		for (let k = 0; k < n; k++) {
			const h = hi[k];
			const l = lo[k];
			const digit = bit < 22 ? l >>> bit & MASK : bit === 22 ? (l >>> 22 | h << 10) & MASK : h >>> bit - 32 & MASK;
			const to = counts[at + digit]++;
			nextIndex[to] = index[k];
			nextHi[to] = h;
			nextLo[to] = l;
		}
		[index, nextIndex] = [nextIndex, index];
		[hi, nextHi] = [nextHi, hi];
		[lo, nextLo] = [nextLo, lo];
	}
	if (index !== records) records.set(index);
	for (let k = 0; k < n;) {
		let end = k + 1;
		while (end < n && hi[end] === hi[k] && lo[end] === lo[k]) end++;
		const run = records.subarray(k, end);
		if (end - k >= SMALL_RUN) sortRun(source, run, common);
		else if (end - k > 1) sortWhole(source, run);
		k = end;
	}
}
/** Sorts `records` in place by comparing whole keys (few records, or keys alike in every packed byte). */
function sortWhole(source, records) {
	const a = byteRange();
	const b = byteRange();
	records.sort((x, y) => {
		source.keyOf(x, a);
		source.keyOf(y, b);
		return compareBytes(a.buffer, a.start, a.end, b.buffer, b.start, b.end) || x - y;
	});
}
function byteAt(buffer, at, end) {
	return at < end ? buffer[at] : 0;
}

// dist/formats/csv/keyed-lines.js
/**
* Keyed lines: a OneRoster CSV file seen as lines keyed by their first value (the sourcedId),
* without reading a field. Two versions of a file are then compared line by line: a line with
* the same bytes on both sides is the same record, and only the lines that differ need to be read
* as records (roster diff reads a few percent of two rosters this way).
*
* That holds only for files in the byte scanner's shape (UTF-8, one record per line) whose keys
* need no normalizing and are each there once: `keyedLines` says why not otherwise, and the
* caller reads the files whole. It never guesses.
*/
const LF = 10;
const CR = 13;
const COMMA = 44;
const QUOTE = 34;
const SPACE = 32;
const KEY_COLUMN = Buffer.from("sourcedId");
/** The lines of a CSV file as KeyedLines, or why they cannot be (the caller reads it whole). */
function keyedLines(bytes) {
	if (bytes[0] === 255 && bytes[1] === 254 || bytes[0] === 254 && bytes[1] === 255) return "UTF-16";
	if (!isUtf8(bytes)) return "not UTF-8";
	for (let r = bytes.indexOf(CR); r >= 0; r = bytes.indexOf(CR, r + 1)) if (r + 1 < bytes.length && bytes[r + 1] !== LF) return "a carriage return inside a line";
	const bom = bytes[0] === 239 && bytes[1] === 187 && bytes[2] === 191 ? 3 : 0;
	const lf = bytes.indexOf(LF);
	const headerEnd = lf < 0 ? bytes.length : lf + 1;
	const firstComma = bytes.indexOf(COMMA, bom);
	if (firstComma < 0 || firstComma > headerEnd || bytes.compare(KEY_COLUMN, 0, KEY_COLUMN.length, bom, firstComma) !== 0) return "sourcedId is not the first column";
	const length = bytes.length;
	let starts = new Int32Array(Math.max(16, (length - headerEnd >>> 5) + 2));
	let keyEnds = new Int32Array(starts.length);
	let count = 0;
	let late = [];
	let highest = -1;
	let highestEnd = -1;
	let quote = bytes.indexOf(QUOTE);
	let headerText = bytes.toString("utf8", bom, lf < 0 ? bytes.length : lf);
	if (headerText.endsWith("\r")) headerText = headerText.slice(0, -1);
	if (quote >= 0 && quote < headerEnd && !splitQuotedLine(headerText)) return "a quote the byte scanner does not take";
	for (let s = headerEnd; s < length;) {
		const at = bytes.indexOf(LF, s);
		const next = at < 0 ? length : at + 1;
		let end = at < 0 ? length : at;
		if (end > s && bytes[end - 1] === CR) end--;
		if (quote >= 0 && quote < s) quote = bytes.indexOf(QUOTE, s);
		if (quote >= 0 && quote < end) {
			if (!quotesTaken(bytes, s, end)) return "a quote the byte scanner does not take";
			quote = bytes.indexOf(QUOTE, next);
		}
		let k = s;
		let h = highest;
		let order = highest < 0 ? 1 : 0;
		while (k < end) {
			const c = bytes[k];
			if (c === COMMA) break;
			if (c < SPACE || c === QUOTE) return "a sourcedId that needs decoding";
			if (order === 0) {
				if (h === highestEnd) order = 1;
				else order = c - bytes[h++];
			}
			k++;
		}
		if (k === s) return "a line without a sourcedId (or a blank line)";
		const first = bytes[s];
		const last = bytes[k - 1];
		if (first === SPACE || first >= 128 || last === SPACE || last >= 128) return "a sourcedId that needs trimming";
		if (order <= 0) late.push(count);
		else {
			highest = s;
			highestEnd = k;
		}
		if (count + 2 > starts.length) {
			starts = grown(starts);
			keyEnds = grown(keyEnds);
		}
		starts[count] = s;
		keyEnds[count] = k;
		count++;
		s = next;
	}
	starts[count] = length;
	const lines = {
		bytes,
		header: bytes.subarray(0, headerEnd),
		count,
		starts: starts.subarray(0, count + 1),
		keyEnds: keyEnds.subarray(0, count),
		order: void 0,
		sorted: void 0,
		lateBefore: void 0,
		keysChecked: true
	};
	if (late.length === 0) return lines;
	const source = { keyOf: (i, out) => {
		out.buffer = bytes;
		out.start = lines.starts[i];
		out.end = lines.keyEnds[i];
	} };
	if (late.length > count / 4) {
		const all = new Int32Array(count);
		for (let i = 0; i < count; i++) all[i] = i;
		const order = sortByKeys(source, all);
		return {
			...lines,
			order,
			sorted: gather(lines, order),
			keysChecked: false
		};
	}
	const inOrder = new Int32Array(count - late.length);
	for (let i = 0, k = 0, l = 0; i < count; i++) if (l < late.length && late[l] === i) l++;
	else inOrder[k++] = i;
	const sortedLate = sortByKeys(source, Int32Array.from(late));
	late = [];
	const order = new Int32Array(count);
	const lateBefore = new Int32Array(count + 1);
	let placed = 0;
	let taken = 0;
	for (let k = 0; k < sortedLate.length; k++) {
		const line = sortedLate[k];
		if (k > 0 && compareLines(lines, sortedLate[k - 1], line) === 0) return "a sourcedId twice";
		const low = gallop(taken, inOrder.length, (i) => compareLines(lines, inOrder[i], line) < 0);
		if (low < inOrder.length && compareLines(lines, inOrder[low], line) === 0) return "a sourcedId twice";
		order.set(inOrder.subarray(taken, low), placed);
		lateBefore.fill(k, placed + 1, placed + 1 + low - taken);
		placed += low - taken;
		taken = low;
		order[placed] = line;
		lateBefore[placed + 1] = k + 1;
		placed++;
	}
	order.set(inOrder.subarray(taken), placed);
	lateBefore.fill(sortedLate.length, placed + 1);
	return {
		...lines,
		order,
		sorted: gather(lines, order),
		lateBefore
	};
}
/** The lines' positions in `order`. */
function gather(lines, order) {
	const n = order.length;
	const starts = new Int32Array(n);
	const keyEnds = new Int32Array(n);
	const ends = new Int32Array(n);
	for (let k = 0; k < n; k++) {
		const i = order[k];
		starts[k] = lines.starts[i];
		keyEnds[k] = lines.keyEnds[i];
		ends[k] = lines.starts[i + 1];
	}
	return {
		starts,
		keyEnds,
		ends
	};
}
/** Key order of lines i and j of one file. */
function compareLines(lines, i, j) {
	const { bytes, starts, keyEnds } = lines;
	return compareBytes(bytes, starts[i], keyEnds[i], bytes, starts[j], keyEnds[j]);
}
function grown(array) {
	const next = new Int32Array(array.length * 2);
	next.set(array);
	return next;
}
/** The header, then the lines, each ending in a line break. */
function linesOf(header, lines) {
	const parts = [header];
	if (header.length > 0 && header[header.length - 1] !== 10) parts.push(NEWLINE);
	for (const line of lines) parts.push(line, NEWLINE);
	return Buffer.concat(parts);
}
const NEWLINE = Buffer.from("\n");

export { OrderedSearch as i, linesOf as n, sortByKey as r, keyedLines as t };