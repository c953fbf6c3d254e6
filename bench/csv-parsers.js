// Compares streaming CSV parsers on the same generated OneRoster-like enrollments file.
// Usage: node bench/csv-parsers.js [rows]   (default 1,000,000 rows, ~90 MB)
// Figures are recorded in docs/csv-parser.md. Not part of the test suite.
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'roster-csv-bench-'));
const file = join(dir, 'enrollments.csv');
const lines = [
  'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
];
for (let i = 0; i < rows; i++) {
  const quoted = i % 1000 === 0 ? '"cls,quoted"' : `cls-${i % 5000}`;
  lines.push(`enr-${i},,,${quoted},sch-${i % 40},usr-${i % 125000},student,,2025-08-18,2026-06-05`);
}
writeFileSync(file, `${lines.join('\n')}\n`);
const mib = statSync(file).size / 1048576;

async function time(name, fn) {
  const t0 = performance.now();
  const count = await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${name.padEnd(56)} ${s.toFixed(2)} s  ${(mib / s).toFixed(0)} MiB/s  rows=${count}`);
}

await time('read floor (stream only)', async () => {
  let n = 0;
  for await (const chunk of createReadStream(file)) n += chunk.length;
  return n;
});
await time(
  'papaparse (stream, step)',
  () =>
    new Promise((resolve, reject) => {
      let n = 0;
      Papa.parse(createReadStream(file, 'utf8'), {
        step: () => {
          n++;
        },
        complete: () => resolve(n),
        error: reject,
      });
    }),
);
await time('roster readCsv (papaparse + UTF-8 check + line numbers)', async () => {
  const { readCsv } = await import('../dist/formats/csv/read-csv.js');
  const { Diagnostics } = await import('../dist/diagnostic.js');
  const result = await readCsv(createReadStream(file), 'enrollments.csv', () => {}, new Diagnostics());
  return result.rows;
});
await time('csv-parse (stream)', async () => {
  let n = 0;
  for await (const _ of createReadStream(file).pipe(csvParse({ relax_column_count: true }))) n++;
  return n;
});
// uDSV calls the handler once per parsed field group; its count is not comparable. It also drops a
// row after an unterminated quote without an error, which rules it out for validation.
await time('udsv (chunked)', async () => {
  const { inferSchema, initParser } = await import('udsv');
  let parser;
  let n = 0;
  for await (const chunk of createReadStream(file, 'utf8')) {
    parser ??= initParser(inferSchema(chunk));
    parser.chunk(chunk, parser.stringArrs, (batch) => {
      n += batch.length;
    });
  }
  parser.end();
  return n;
});
rmSync(dir, { recursive: true, force: true });
