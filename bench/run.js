// The city-scale benchmark: one run, the same inputs for every tool.
//
//   npm run bench                 # size S (quick; also run by the test suite)
//   npm run bench -- --size M     # or L; --keep keeps the inputs in bench/tmp/<size>
//   ... --reuse                   # reuse kept inputs (no generation, no apply); --ours: only roster's tools
//   ... --variant school          # only one variant (mutated, shuffled or school)
//
// A seeded district is generated (roster generate's engine), written as OneRoster 1.1 CSV, and
// mutated with a known ground truth (1% of each entity removed, 2% changed in one field, 1% added;
// a variant with shuffled rows). Every tool runs on the same two folders; wall time and peak RSS
// come from /usr/bin/time. Keyed tools must report the ground truth (the correctness gate), or the
// bench fails. Results go to bench/results/ (machine, versions, figures).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import Papa from 'papaparse';
import { writeOneRosterDir } from '../dist/formats/oneroster-csv/write.js';
import { generateDistrict, seededRandom } from '../dist/generate/generate.js';

// The benchmarks of one feature each, in their own scripts:
//   npm run bench -- --history [--size S|5k|M]   record history (bench/history.js)
//   npm run bench -- --edit [--size S|M]          manual edits (bench/edit.js)
//   npm run bench -- --import [--size S|M]        imports (bench/import.js)
for (const [flag, script] of [
  ['--history', 'history.js'],
  ['--edit', 'edit.js'],
  ['--import', 'import.js'],
]) {
  if (!process.argv.includes(flag)) continue;
  const run = spawnSync(
    process.execPath,
    [new URL(script, import.meta.url).pathname, ...process.argv.slice(2).filter((a) => a !== flag)],
    { stdio: 'inherit' },
  );
  process.exit(run.status ?? 1);
}

const SIZES = {
  // XS: the test suite's run of the correctness gate (test/integration/bench.test.ts).
  XS: { schools: 8, students: 3_000 },
  S: { schools: 8, students: 9_000 },
  M: { schools: 60, students: 100_000 },
  L: { schools: 400, students: 1_000_000 },
};
const args = process.argv.slice(2);
const size = (args.includes('--size') ? (args[args.indexOf('--size') + 1] ?? '') : 'S').toUpperCase();
if (!SIZES[size] || (args.includes('--size') && args.indexOf('--size') === args.length - 1)) {
  console.error('usage: node bench/run.js [--size XS|S|M|L]');
  process.exit(64);
}
const ROOT = resolve('bench/tmp', size);
const BIN = resolve('bin/run.js');
const base = join(ROOT, 'base');
const repo = join(ROOT, 'repo');
// --reuse: the inputs (and the applied target) of an earlier --keep run of this size.
const reuse = args.includes('--reuse') && existsSync(join(ROOT, 'inputs.json'));
// --ours: only roster diff and roster plan (while working on them).
const oursOnly = args.includes('--ours');

async function prepare() {
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  // 1. Inputs.
  const t0 = performance.now();
  const roster = generateDistrict({ ...SIZES[size], seed: `bench-${size}` });
  await writeOneRosterDir(roster, base);
  const users = roster.table('users').size;
  const enrollments = roster.table('enrollments').size;
  console.log(
    `generated ${size}: ${users} users, ${enrollments} enrollments in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const truth = {
    mutated: mutate(base, join(ROOT, 'mutated'), false),
    shuffled: mutate(base, join(ROOT, 'shuffled'), true),
    school: schoolVariant(),
  };
  // Kept before the (long) apply, so that --reuse can pick up from here.
  writeFileSync(join(ROOT, 'inputs.json'), `${JSON.stringify({ users, enrollments, truth }, null, 2)}\n`);
  applyBase();
  return { users, enrollments, truth };
}

// 2. Mutation with ground truth: per entity file, remove 1%, change one field in 2%, add 1%.
const CHANGE = {
  users: 'middleName',
  enrollments: 'endDate',
  classes: 'location',
  demographics: 'cityOfBirth',
  courses: 'courseCode',
};
const rnd = seededRandom(`mutate-${size}`);
const cellsOf = (line) => (line.includes('"') ? Papa.parse(line).data[0] : line.split(','));
const lineOf = (cells) => (cells.some((c) => /[",]/.test(c)) ? Papa.unparse([cells]) : cells.join(','));
// What removing a record takes with it, so that the mutated roster stays valid (the plan path
// refuses an invalid roster): a course's classes, a class's or a user's enrollments and
// demographics. Parents are mutated first. The cascaded rows count as removed.
const ORDER = ['courses', 'classes', 'users', 'demographics', 'enrollments'];
const PARENTS = {
  classes: { courseSourcedId: 'courses' },
  users: {},
  demographics: { sourcedId: 'users' },
  enrollments: { classSourcedId: 'classes', userSourcedId: 'users' },
  courses: {},
};
// Files are handled as bytes: an L enrollments.csv is larger than one JavaScript string can be.
function readLines(file) {
  const buf = readFileSync(file);
  const lines = [];
  for (let s = 0; s < buf.length; ) {
    const e = buf.indexOf(10, s);
    const end = e < 0 ? buf.length : e;
    if (end > s) lines.push(buf.toString('utf8', s, end));
    s = end + 1;
  }
  return lines;
}
function writeLines(file, lines) {
  const fd = openSync(file, 'w');
  for (let i = 0; i < lines.length; i += 10_000) writeSync(fd, `${lines.slice(i, i + 10_000).join('\n')}\n`);
  closeSync(fd);
}
function countLines(file) {
  const buf = readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
// With `school`, only that school's rows are removed, changed and copied (the incremental plan's
// case: one school's lines changed in every file), with a random generator of its own.
function mutate(dir, out, shuffle, school, random = rnd) {
  const rnd = random;
  mkdirSync(out, { recursive: true });
  const schoolUsers = new Set();
  const truth = {};
  const removed = {};
  const added = {};
  for (const file of readdirSync(dir))
    if (!CHANGE[file.replace(/\.csv$/, '')]) writeFileSync(join(out, file), readFileSync(join(dir, file)));
  for (const entity of ORDER) {
    const file = `${entity}.csv`;
    const lines = readLines(join(dir, file));
    const header = lines[0];
    const names = header.split(',');
    const col = names.indexOf(CHANGE[entity]);
    const parents = Object.entries(PARENTS[entity]).map(([field, parent]) => [names.indexOf(field), parent]);
    const schoolCol = names.indexOf(entity === 'courses' ? 'orgSourcedId' : 'schoolSourcedId');
    const orgsCol = names.indexOf('orgSourcedIds');
    const ofSchool = (cells) =>
      school === undefined ||
      (entity === 'users'
        ? cells[orgsCol].split(',').includes(school)
        : entity === 'demographics'
          ? schoolUsers.has(cells[0])
          : cells[schoolCol] === school);
    let candidates = 0;
    const gone = new Set();
    removed[entity] = gone;
    const rows = [];
    const kept = [];
    const t = { added: 0, removed: 0, changed: 0 };
    for (const line of lines.slice(1)) {
      const cells = cellsOf(line);
      const mine = ofSchool(cells);
      if (mine) candidates++;
      if (mine && entity === 'users') schoolUsers.add(cells[0]);
      const r = mine ? rnd() : 1;
      if (r < 0.01 || parents.some(([i, parent]) => removed[parent].has(cells[i]))) {
        gone.add(cells[0]);
        t.removed++;
        continue;
      }
      if (mine) kept.push(rows.length); // (where its line is: new records copy kept ones)
      if (r < 0.03) {
        const next = [...cells];
        next[col] = entity === 'enrollments' ? '2026-06-01' : `x${Math.floor(rnd() * 1e6)}`;
        rows.push(lineOf(next));
        t.changed++;
        continue;
      }
      rows.push(line);
    }
    // New records copy kept ones under new ids; a new user gets demographics of its own.
    const keptLine = (k) => rows[kept[k]];
    const fresh = [];
    if (entity === 'demographics') {
      for (const id of added.users) {
        if (kept.length === 0) break;
        const cells = cellsOf(keptLine(Math.floor(rnd() * kept.length)));
        cells[0] = id;
        fresh.push(cells);
      }
    } else {
      const n = kept.length === 0 ? 0 : Math.max(school ? 1 : 0, Math.floor(candidates * 0.01));
      for (let i = 0; i < n; i++) {
        const cells = cellsOf(keptLine(Math.floor(rnd() * kept.length)));
        cells[0] = `${cells[0]}-new${i}`;
        fresh.push(cells);
      }
    }
    added[entity] = fresh.map((c) => c[0]);
    for (const cells of fresh) rows.push(lineOf(cells));
    t.added = fresh.length;
    if (shuffle)
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
    writeLines(join(out, file), [header, ...rows]);
    truth[entity] = t;
  }
  return truth;
}

/** One school's rows changed (the first school of orgs.csv): the incremental plan's variant. */
function schoolVariant() {
  const orgs = readLines(join(base, 'orgs.csv')).map(cellsOf);
  const type = orgs[0].indexOf('type');
  const school = orgs.slice(1).find((cells) => cells[type] === 'school')[0];
  return mutate(base, join(ROOT, 'school'), false, school, seededRandom(`school-${size}`));
}

let inputs;
if (reuse) {
  inputs = JSON.parse(readFileSync(join(ROOT, 'inputs.json'), 'utf8'));
  console.log(`reusing the inputs in ${ROOT}`);
  if (!inputs.truth.school || !existsSync(join(ROOT, 'school'))) {
    inputs.truth.school = schoolVariant();
    writeFileSync(join(ROOT, 'inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);
  }
  if (!existsSync(join(repo, 'target', 'current'))) applyBase();
} else {
  inputs = await prepare();
}
const variants = inputs.truth;

// 3. Tools.
// A tool's output goes to a file, read once it is done: taken through a pipe, the bench would
// decode hundreds of MB (a city's plan) while the tool runs, taking a core from it.
const OUTPUT = join(ROOT, 'tool-output.tmp');
function timed(cmd, argv, opts = {}) {
  const out = openSync(OUTPUT, 'w');
  let r;
  try {
    r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', out, 'pipe'],
      ...opts,
    });
  } finally {
    closeSync(out);
  }
  const stdout = readFileSync(OUTPUT, 'utf8');
  rmSync(OUTPUT, { force: true });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, rssKb] = last.split(' ').map(Number);
  return { status: r.status, stdout, stderr: r.stderr, wall, rssMb: rssKb / 1024 };
}
/** As timed(), without blocking this process (the fake GitHub API runs in it). */
function timedAsync(cmd, argv, opts = {}) {
  return new Promise((done) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      const [wall, rssKb] = (stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      done({ status, stdout, stderr, wall, rssMb: rssKb / 1024 });
    });
  });
}
const files = (dir) =>
  readdirSync(dir)
    .filter((f) => f !== 'manifest.csv')
    .map((f) => join(dir, f));
const bytes = files(base).reduce((n, f) => n + statSync(f).size, 0) * 2;
const rows = files(base).reduce((n, f) => n + countLines(f) - 1, 0) * 2;

const results = [];
let gateFailed = false;
function record(tool, variant, run, counts) {
  const truth = variants[variant];
  let gate = '-';
  if (counts) {
    const ok = Object.entries(truth).every(
      ([e, t]) =>
        counts[e] &&
        counts[e].added === t.added &&
        counts[e].removed === t.removed &&
        counts[e].changed === t.changed,
    );
    gate = ok ? 'ok' : 'FAIL';
    if (!ok) {
      gateFailed = true;
      console.error(
        `correctness gate failed for ${tool} (${variant}):\n  expected ${JSON.stringify(truth)}\n  got      ${JSON.stringify(counts)}`,
      );
    }
  }
  results.push({
    tool,
    variant,
    wallSeconds: run.wall,
    peakRssMb: Math.round(run.rssMb),
    rowsPerSecond: Math.round(rows / Math.max(run.wall, 0.01)),
    mibPerSecond: Math.round(bytes / 1048576 / Math.max(run.wall, 0.01)),
    gate,
    status: run.status,
  });
}

// The full plan path: a district repo whose `dir` target holds the original set (applied once,
// not timed); its roster folder then points at a mutated set and `roster plan` is timed.
// (stdout, the whole plan, is not wanted: at L it would overflow spawnSync's buffer.)
function applyBase() {
  mkdirSync(repo, { recursive: true });
  writeFileSync(
    join(repo, 'roster.config.yaml'),
    'roster: roster\ntargets:\n  - { name: bench, kind: dir, path: target, mode: bulk }\n',
  );
  rmSync(join(repo, 'roster'), { force: true });
  rmSync(join(repo, 'target'), { recursive: true, force: true }); // (an earlier, failed apply)
  symlinkSync(base, join(repo, 'roster'));
  const t1 = performance.now();
  const applied = spawnSync(process.execPath, [BIN, 'apply', '--repo', repo, '--auto-approve', '--quiet'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (applied.status !== 0) {
    console.error(`applying the original set failed:\n${applied.stderr}`);
    process.exit(1);
  }
  console.log(
    `applied the original set to the bench target in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );
}

const withoutTime = (json) => json.replace(/"createdAt": "[^"]*"/, '');
const countsOf = (plan) =>
  Object.fromEntries(
    Object.entries(plan.summary.byEntity).map(([e, c]) => [
      e,
      { added: c.create, removed: c.delete, changed: c.update },
    ]),
  );

const planCounts = (p) => countsOf(p.status === 0 ? JSON.parse(p.stdout) : { summary: { byEntity: {} } });
// --variant NAME: only that variant (mutated, shuffled or school).
const only = args.includes('--variant') ? args[args.indexOf('--variant') + 1] : undefined;
for (const variant of Object.keys(variants)) {
  if (only && variant !== only) continue;
  const next = join(ROOT, variant);
  if (variant === 'school') {
    // The incremental plan: first a plan of the original set, which finds nothing to do and so
    // fills the plan cache; then one school's lines change.
    rmSync(join(repo, 'roster'));
    symlinkSync(base, join(repo, 'roster'));
    rmSync(join(repo, '.roster', 'cache'), { recursive: true, force: true }); // (a cache of an earlier run)
    record(
      'roster plan, nothing to do (fills cache)',
      'original',
      timed(process.execPath, [BIN, 'plan', '--repo', repo, '--format', 'json', '--quiet']),
    );
    rmSync(join(repo, 'roster'));
    symlinkSync(next, join(repo, 'roster'));
    const p = timed(process.execPath, [BIN, 'plan', '--repo', repo, '--format', 'json']);
    if (p.status !== 0) console.error(p.stderr);
    if (!/Compared only the \d+ line/.test(p.stderr)) {
      console.error(`the plan of one changed school did not take the incremental path:\n${p.stderr}`);
      gateFailed = true;
    }
    record('roster plan (incremental)', variant, p, planCounts(p));
    const full = timed(process.execPath, [
      BIN,
      'plan',
      '--repo',
      repo,
      '--format',
      'json',
      '--quiet',
      '--full',
    ]);
    record('roster plan --full', variant, full, planCounts(full));
    if (p.status === 0 && full.status === 0 && withoutTime(p.stdout) !== withoutTime(full.stdout)) {
      console.error('the incremental plan differs from the full plan');
      gateFailed = true;
    }
    continue;
  }
  rmSync(join(repo, 'roster'));
  symlinkSync(next, join(repo, 'roster'));
  const p = timed(process.execPath, [BIN, 'plan', '--repo', repo, '--format', 'json', '--quiet']);
  if (p.status !== 0) console.error(p.stderr);
  record(
    'roster plan',
    variant,
    p,
    countsOf(p.status === 0 ? JSON.parse(p.stdout) : { summary: { byEntity: {} } }),
  );
  // roster diff (keyed): only the lines that differ read as records, and both rosters read whole.
  const d = timed(process.execPath, [BIN, 'diff', base, next, '--format', 'json']);
  if (d.status !== 0) console.error(d.stderr);
  if (!/Read only the \d+ line/.test(d.stderr)) {
    console.error(`roster diff did not read only the lines that differ:\n${d.stderr}`);
    gateFailed = true;
  }
  record('roster diff', variant, d, planCounts(d));
  const dFull = timed(process.execPath, [BIN, 'diff', base, next, '--format', 'json', '--full']);
  if (dFull.status !== 0) console.error(dFull.stderr);
  record('roster diff --full', variant, dFull, planCounts(dFull));
  if (d.status === 0 && dFull.status === 0 && withoutTime(d.stdout) !== withoutTime(dFull.stdout)) {
    console.error('roster diff differs from roster diff --full');
    gateFailed = true;
  }
  if (oursOnly) continue;
  // Line-set baseline: LC_ALL=C sort + join -v1 -v2 on the key, comm -3 on whole lines.
  const sortJoin = timed('bash', [
    '-c',
    `set -e; cd "${ROOT}"; for f in $(ls ${base} | grep -v manifest); do LC_ALL=C sort -t, -k1,1 base/$f > a.s; LC_ALL=C sort -t, -k1,1 ${variant}/$f > b.s; LC_ALL=C join -t, -v1 -v2 -o 0 a.s b.s | wc -l; LC_ALL=C sort base/$f > a.l; LC_ALL=C sort ${variant}/$f > b.l; LC_ALL=C comm -3 a.l b.l | wc -l; done`,
  ]);
  record('sort + join/comm', variant, sortJoin);
  record('git diff --no-index --stat', variant, timed('git', ['diff', '--no-index', '--stat', base, next]));
  if (size !== 'L') {
    // daff, keyed by sourcedId, one file pair at a time.
    let total = { wall: 0, rssMb: 0, status: 0 };
    const daffCounts = {};
    for (const f of files(base)) {
      const name = f.split('/').pop();
      const entity = name.replace(/\.csv$/, '');
      const r = timed(process.execPath, [
        resolve('node_modules/daff/bin/daff.js'),
        'diff',
        '--id',
        'sourcedId',
        '--output-format',
        'csv',
        f,
        join(next, name),
      ]);
      total = {
        wall: total.wall + r.wall,
        rssMb: Math.max(total.rssMb, r.rssMb),
        status: total.status || (r.status > 1 ? r.status : 0),
      };
      if (!CHANGE[entity]) continue;
      const marks = Papa.parse(r.stdout, { skipEmptyLines: true }).data.map((row) => row[0]);
      daffCounts[entity] = {
        added: marks.filter((m) => m === '+++').length,
        removed: marks.filter((m) => m === '---').length,
        changed: marks.filter((m) => m === '->').length,
      };
    }
    record('daff --id sourcedId', variant, total, daffCounts);
  }
}
if (!oursOnly)
  record(
    'read floor (cat)',
    'mutated',
    timed('bash', ['-c', `cat ${base}/*.csv ${ROOT}/mutated/*.csv > /dev/null`]),
  );
if (!oursOnly)
  record(
    'parse floor (PapaParse)',
    'mutated',
    timed(process.execPath, [
      '-e',
      `const P=require('${resolve('node_modules/papaparse')}');const fs=require('fs');(async()=>{let n=0;for(const d of ['${base}','${ROOT}/mutated'])for(const f of fs.readdirSync(d))await new Promise((complete)=>P.parse(fs.createReadStream(d+'/'+f,{highWaterMark:1<<20,encoding:'utf8'}),{step(){n++},complete}));console.log(n)})()`,
    ]),
  );

// Our parse stage alone: the byte scanner the OneRoster reader uses, over the same files.
if (!oursOnly)
  record(
    'parse floor (ours: byte scanner)',
    'mutated',
    timed(process.execPath, [
      '--input-type=module',
      '-e',
      `import {scanCsv} from '${resolve('dist/formats/csv/scan-csv.js')}';import fs from 'node:fs';let n=0;for(const d of ['${base}','${ROOT}/mutated'])for(const f of fs.readdirSync(d)){const o=await scanCsv(fs.createReadStream(d+'/'+f,{highWaterMark:1<<20}),{row(){n++}});if(o.kind!=='done')throw new Error(f+': '+o.reason)}console.log(n)`,
    ]),
  );

// The GitHub Action on a pull request, as a runner runs it: plan + comment, against a fake
// GitHub API on 127.0.0.1 that takes the comment. Two plans: the mutated set against the applied
// target, and a first delivery (a target never applied). Goal at L: <= 45 s and <= 4 GB.
const comments = [];
const github = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/user')
      return res.writeHead(403).end('{"message":"Resource not accessible by integration"}');
    if (req.method === 'GET') return res.end('[]');
    const text = JSON.parse(body).body;
    comments.push({ bytes: Buffer.byteLength(text), characters: text.length });
    res.writeHead(201).end(
      JSON.stringify({
        id: comments.length,
        body: text,
        html_url: 'u',
        user: { login: 'github-actions[bot]' },
      }),
    );
  });
});
await new Promise((done) => github.listen(0, '127.0.0.1', done));
const first = join(ROOT, 'repo-first');
mkdirSync(first, { recursive: true });
writeFileSync(
  join(first, 'roster.config.yaml'),
  'roster: roster\ntargets:\n  - { name: bench, kind: dir, path: target, mode: bulk }\n',
);
rmSync(join(first, 'roster'), { force: true });
symlinkSync(base, join(first, 'roster'));
rmSync(join(repo, 'roster'));
symlinkSync(join(ROOT, 'mutated'), join(repo, 'roster'));
const commentSizes = {};
for (const [name, workspace, variant] of [
  ['Action: plan + comment', repo, 'mutated'],
  ['Action: plan + comment (first)', first, 'original'],
]) {
  writeFileSync(
    join(ROOT, 'event.json'),
    JSON.stringify({
      number: 1,
      pull_request: {
        number: 1,
        head: { sha: 'a', repo: { full_name: 'o/r' } },
        base: { repo: { full_name: 'o/r' } },
      },
    }),
  );
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GITHUB_|INPUT_|RUNNER_)/.test(k))),
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: join(ROOT, 'event.json'),
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_API_URL: `http://127.0.0.1:${github.address().port}`,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: ROOT,
    INPUT_COMMAND: 'plan',
    'INPUT_GITHUB-TOKEN': 'bench',
  };
  const before = comments.length;
  const run = await timedAsync(process.execPath, [resolve('action/dist/index.js')], { env, cwd: workspace });
  if (run.status !== 0 || comments.length !== before + 1) {
    console.error(`the Action failed (${name}):\n${run.stdout.slice(-2000)}\n${run.stderr}`);
    gateFailed = true;
  }
  commentSizes[name] = comments.at(-1);
  record(name, variant, run);
}
github.close();

// Index memory: what the reader keeps per record besides the record's own bytes (typed arrays
// of the record tables, with their spare room, and the sourcedId indexes).
const { loadRoster } = await import('../dist/source/load.js');
const { KeyIndex } = await import('../dist/model/key-index.js');
const loadedBase = await loadRoster(base, { checkFields: false });
let indexBytes = 0;
let dataBytes = 0;
let records = 0;
for (const entity of loadedBase.roster.entities()) {
  const table = loadedBase.roster.table(entity);
  const f = table.footprint;
  indexBytes += f.indexBytes + KeyIndex.of(table, 'sourcedId').byteLength;
  dataBytes += f.dataBytes;
  records += table.size;
}
const memory = {
  records,
  indexBytesPerRecord: Math.round(indexBytes / records),
  dataBytesPerRecord: Math.round(dataBytes / records),
};

// 4. Report.
const ours = results.find((r) => r.tool === 'roster diff' && r.variant === 'mutated') ?? results[0];
console.log(
  `\nsize ${size}: ${rows.toLocaleString('en-US')} rows, ${(bytes / 1048576).toFixed(1)} MiB (both sides)\n`,
);
console.log(
  `index memory: ${memory.indexBytesPerRecord} bytes per record (tables and sourcedId index; the goal is <= 100), plus ${memory.dataBytesPerRecord} bytes of record data\n`,
);
console.log(
  `${'tool'.padEnd(34)} ${'variant'.padEnd(9)} ${'wall s'.padStart(8)} ${'RSS MB'.padStart(8)} ${'rows/s'.padStart(11)} ${'MiB/s'.padStart(7)} ${'x ours'.padStart(7)}  gate`,
);
for (const r of results) {
  console.log(
    `${r.tool.padEnd(34)} ${r.variant.padEnd(9)} ${r.wallSeconds.toFixed(2).padStart(8)} ${String(r.peakRssMb).padStart(8)} ${r.rowsPerSecond.toLocaleString('en-US').padStart(11)} ${String(r.mibPerSecond).padStart(7)} ${(r.wallSeconds / ours.wallSeconds).toFixed(2).padStart(7)}  ${r.gate}`,
  );
}
for (const [name, c] of Object.entries(commentSizes))
  if (c)
    console.log(
      `${name}: comment of ${c.bytes.toLocaleString('en-US')} bytes (${c.characters.toLocaleString('en-US')} characters; GitHub's limit is 65,536 characters)`,
    );
const versions = {
  node: process.version,
  roster: JSON.parse(readFileSync('package.json', 'utf8')).version,
  daff: JSON.parse(readFileSync('node_modules/daff/package.json', 'utf8')).version,
  git: execFileSync('git', ['--version'], { encoding: 'utf8' }).trim(),
};
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/${size}-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(
  out,
  `${JSON.stringify({ size, machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) }, versions, inputs: { rows, bytes, users: inputs.users, enrollments: inputs.enrollments }, truth: variants, memory, comments: commentSizes, results }, null, 2)}\n`,
);
console.log(`\nwrote ${out}`);
if (!args.includes('--keep')) rmSync(ROOT, { recursive: true, force: true });
if (gateFailed) {
  console.error('correctness gate FAILED');
  process.exit(1);
}
