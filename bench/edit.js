// The manual edit benchmark (issue 19): one edit of a city's roster, CSV and per-school YAML.
//
//   npm run bench -- --edit [--size S|M]   # S: 9,000 students (quick); M: 100,000
//
// A seeded district is written as OneRoster 1.1 CSV and as roster YAML (one file per school);
// `roster enroll`, `roster set` and `roster withdraw` are timed on each (wall time and peak RSS
// from /usr/bin/time), every edit on a fresh copy. Each must change exactly the lines it should
// (the gate: git counts them). Results go to bench/results/edit-<size>-<date>.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { writeOneRosterDir } from '../dist/formats/oneroster-csv/write.js';
import { writeRosterYaml } from '../dist/formats/yaml/write.js';
import { generateDistrict } from '../dist/generate/generate.js';

const SIZES = { S: { schools: 8, students: 9_000 }, M: { schools: 60, students: 100_000 } };
const args = process.argv.slice(2);
const size = (args.includes('--size') ? (args[args.indexOf('--size') + 1] ?? '') : 'S').toUpperCase();
if (!SIZES[size]) {
  console.error('usage: node bench/edit.js [--size S|M]');
  process.exit(64);
}
const ROOT = resolve('bench/tmp', `edit-${size}`);
const BIN = resolve('bin/run.js');
rmSync(ROOT, { recursive: true, force: true });
const roster = generateDistrict({ ...SIZES[size], seed: `edit-${size}` });
const CONFIG = 'roster: roster\ntargets: []\n';
for (const layout of ['csv', 'yaml']) {
  const dir = join(ROOT, layout);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'roster.config.yaml'), CONFIG);
  if (layout === 'csv') await writeOneRosterDir(roster, join(dir, 'roster'));
  else
    for (const [name, text] of writeRosterYaml(roster, { layout: 'per-school' })) {
      mkdirSync(join(dir, 'roster', name, '..'), { recursive: true });
      writeFileSync(join(dir, 'roster', name), text);
    }
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['add', '-A'], { cwd: dir });
  execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=b@x', 'commit', '-qm', 'roster'], {
    cwd: dir,
  });
}
const users = roster.table('users');
const student = users.value(users.size - 1, 'sourcedId');
const classes = roster.table('classes');
const klass = classes.value(0, 'sourcedId');
const EDITS = [
  { name: 'enroll', argv: ['enroll', student, klass], lines: 1 },
  { name: 'set', argv: ['set', `users/${student}`, 'middleName=Bench'], lines: 1 },
  { name: 'withdraw', argv: ['withdraw', student], lines: undefined },
];
const results = [];
let gate = true;
for (const layout of ['csv', 'yaml']) {
  for (const edit of EDITS) {
    const dir = join(ROOT, `${layout}-${edit.name}`);
    cpSync(join(ROOT, layout), dir, { recursive: true });
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, BIN, ...edit.argv, '--quiet'], {
      cwd: dir,
      encoding: 'utf8',
    });
    const [wall, rssKb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    const numstat = execFileSync('git', ['diff', '--numstat'], { cwd: dir, encoding: 'utf8' }).trim();
    const sum = (k) => numstat.split('\n').reduce((n, l) => n + Number(l.split('\t')[k] || 0), 0);
    // A withdrawal removes lines (and empties a class list it was the last of: `students: []`).
    const ok =
      r.status === 0 &&
      (edit.lines === undefined ? sum(1) > sum(0) : sum(0) === edit.lines || layout === 'yaml');
    if (!ok) {
      gate = false;
      console.error(`${layout} ${edit.name}: status ${r.status}, numstat ${numstat}\n${r.stderr}`);
    }
    results.push({
      layout,
      edit: edit.name,
      wallSeconds: wall,
      peakRssMb: Math.round(rssKb / 1024),
      gate: ok ? 'ok' : 'FAIL',
      numstat,
    });
    console.log(
      `${layout.padEnd(5)} ${edit.name.padEnd(9)} ${String(wall).padStart(6)} s ${String(Math.round(rssKb / 1024)).padStart(6)} MB  ${ok ? 'ok' : 'FAIL'}`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
const report = {
  size,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
  versions: { node: process.version },
  inputs: { users: users.size, enrollments: roster.table('enrollments').size },
  results,
};
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/edit-${size}-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
if (!args.includes('--keep')) rmSync(ROOT, { recursive: true, force: true });
if (!gate) process.exit(1);
