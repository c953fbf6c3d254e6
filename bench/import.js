// The import benchmark (issue 22): a district's first `roster import`, from what it has.
//
//   npm run bench -- --import [--size S|M] [--keep]   # S: 9,000 students (quick); M: 100,000
//
// A seeded district is written as a OneRoster 1.1 zip and as the two-file batch, and held by a
// sandbox (its OneRoster REST API, filled by a sync of the same zip). Each import runs as a user
// runs it (the built CLI, into a new git repo, roster YAML per school) and is timed with
// /usr/bin/time (wall time, peak RSS). The gate: each import exits 0 with every user imported.
// Goals at M: from the REST API <= 60 s, from a zip <= 10 s. Results:
// bench/results/import-<size>-<date>.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { writeOneRosterZip } from '../dist/formats/oneroster-csv/write.js';
import { generateDistrict } from '../dist/generate/generate.js';
import { exportBatch } from '../dist/sandbox/batch.js';
import { startSandbox } from '../dist/sandbox/sandbox.js';
import { PortalStore } from '../dist/sandbox/store.js';

const SIZES = { S: { schools: 8, students: 9_000 }, M: { schools: 60, students: 100_000 } };
const GOALS = { M: { 'oneroster zip': 10, 'oneroster-api 1.1': 60 } };
const args = process.argv.slice(2);
const size = (args.includes('--size') ? (args[args.indexOf('--size') + 1] ?? '') : 'S').toUpperCase();
if (!SIZES[size]) {
  console.error('usage: node bench/import.js [--size S|M] [--keep]');
  process.exit(64);
}
const ROOT = resolve('bench/tmp', `import-${size}`);
const BIN = resolve('bin/run.js');
rmSync(ROOT, { recursive: true, force: true });
mkdirSync(ROOT, { recursive: true });

const t0 = performance.now();
const roster = generateDistrict({ ...SIZES[size], seed: `import-${size}` });
const zip = join(ROOT, 'export.zip');
await writeOneRosterZip(roster, zip);
const batch = exportBatch(roster);
mkdirSync(join(ROOT, 'batch'));
writeFileSync(join(ROOT, 'batch/users.csv'), batch.users);
writeFileSync(join(ROOT, 'batch/demographics.csv'), batch.demographics);
const users = roster.table('users').size;
console.log(`generated ${size}: ${users} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// The portal: a sandbox whose OneRoster API serves the district (no rate limit: the service's
// own cost is what is measured, with its default page size).
const data = join(ROOT, 'sandbox');
mkdirSync(data);
writeFileSync(
  join(data, 'sandbox.yaml'),
  'host: 127.0.0.1\nsftp: { port: 0, users: [ { username: district, password: bench-password-1 } ] }\nhttp: { port: 0, tokens: [ bench-token-0123456789 ] }\noauthClients: [ { clientId: bench, clientSecret: bench-secret-123 } ]\nlimits: { restRequestsPerSecond: 1000000 }\n',
);
const sandbox = await startSandbox({ dataDir: data });
mkdirSync(new PortalStore(data).landingDir('district'), { recursive: true });
writeFileSync(join(new PortalStore(data).landingDir('district'), 'OneRoster.zip'), readFileSync(zip));
const s0 = performance.now();
await sandbox.sync();
console.log(`sandbox synced in ${((performance.now() - s0) / 1000).toFixed(1)} s`);

function newRepo(name) {
  const dir = join(ROOT, name);
  mkdirSync(join(dir, 'roster'), { recursive: true });
  writeFileSync(join(dir, 'roster.config.yaml'), 'roster: roster\ntargets: []\n');
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

/** Runs the CLI under /usr/bin/time without blocking (the sandbox answers from this process). */
function timed(argv, cwd, env = {}) {
  return new Promise((done) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %M', process.execPath, BIN, ...argv], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      const [wall, rssKb] = (stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      done({ status, stdout, stderr, wall, rssMb: Math.round(rssKb / 1024) });
    });
  });
}

const RUNS = [
  { name: 'oneroster zip', argv: ['import', '--from', 'oneroster', zip, '--quiet'] },
  {
    name: 'oneroster-api 1.1',
    argv: [
      'import',
      '--from',
      'oneroster-api',
      `${sandbox.http.url}/ims/oneroster/v1p1`,
      '--client-id-env',
      'SIS_ID',
      '--client-secret-env',
      'SIS_SECRET',
      '--quiet',
    ],
    env: { SIS_ID: 'bench', SIS_SECRET: 'bench-secret-123' },
  },
  {
    name: 'batch files',
    argv: [
      'import',
      '--from',
      'batch',
      join(ROOT, 'batch/users.csv'),
      join(ROOT, 'batch/demographics.csv'),
      '--quiet',
    ],
  },
];
const results = [];
let gate = true;
for (const run of RUNS) {
  const dir = newRepo(run.name.replace(/\W+/g, '-'));
  const r = await timed(run.argv, dir, run.env);
  const imported = Number(/ (\d+) users/.exec(r.stdout)?.[1] ?? 0);
  const goal = GOALS[size]?.[run.name];
  const ok = r.status === 0 && imported === users;
  if (!ok) {
    gate = false;
    console.error(`${run.name}: status ${r.status}, ${imported} users\n${r.stderr.slice(-2000)}`);
  }
  results.push({
    source: run.name,
    wallSeconds: r.wall,
    peakRssMb: r.rssMb,
    ...(goal ? { goalSeconds: goal, goalMet: r.wall <= goal } : {}),
    gate: ok ? 'ok' : 'FAIL',
  });
  console.log(
    `${run.name.padEnd(18)} ${String(r.wall).padStart(7)} s ${String(r.rssMb).padStart(6)} MB  ${ok ? 'ok' : 'FAIL'}${goal ? `  (goal ${goal} s: ${r.wall <= goal ? 'met' : 'NOT met'})` : ''}`,
  );
}
await sandbox.close();
const report = {
  size,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
  versions: { node: process.version },
  inputs: { users, enrollments: roster.table('enrollments').size },
  results,
};
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/import-${size}-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
if (!args.includes('--keep')) rmSync(ROOT, { recursive: true, force: true });
process.exit(gate ? 0 : 1);
