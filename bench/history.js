// The record history benchmark (issue 21): roster log on years of daily commits.
//
//   npm run bench -- --history                 # size S: 9,000 students, 20 daily commits (quick)
//   npm run bench -- --history --size 5k       # 5,000 students, 1,500 daily commits
//   npm run bench -- --history --size M        # 100,000 students, 180 daily commits
//   ... --keep                                 # keep the repo in bench/tmp/history-<size>
//
// A seeded district is generated as OneRoster 1.1 CSV and committed once a day with git
// fast-import (a few users changed, enrollments dropped and added each day; the followed student
// changed every 30 days). Timed with /usr/bin/time: `git log -G` for the student (the way to ask
// git today), roster log cold (the index built), warm, and after one more commit. The log must list
// exactly the days the student changed (the correctness gate). Results go to bench/results/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { writeOneRosterDir } from '../dist/formats/oneroster-csv/write.js';
import { generateDistrict, seededRandom } from '../dist/generate/generate.js';

const SIZES = {
  S: { schools: 8, students: 9_000, days: 20 },
  '5K': { schools: 6, students: 5_000, days: 1_500 },
  M: { schools: 60, students: 100_000, days: 180 },
};
const args = process.argv.slice(2);
const size = (args.includes('--size') ? (args[args.indexOf('--size') + 1] ?? '') : 'S').toUpperCase();
if (!SIZES[size]) {
  console.error('usage: node bench/history.js [--size S|5k|M] [--keep]');
  process.exit(64);
}
const { schools, students, days } = SIZES[size];
const ROOT = resolve('bench/tmp', `history-${size}`);
const repo = join(ROOT, 'repo');
const BIN = resolve('bin/run.js');
const FOLLOWED = 'stu-000131';
const EVERY = 30; // the followed student changes every 30 days
const START = Date.parse('2022-08-01T12:00:00Z') / 1000;

// --reuse: the repository of an earlier --keep run of this size (its one extra commit undone).
const reuse = args.includes('--reuse') && existsSync(join(repo, '.git'));
if (!reuse) rmSync(ROOT, { recursive: true, force: true });
mkdirSync(repo, { recursive: true });
const t0 = performance.now();
const base = join(ROOT, 'base');
let followedChanges;
if (reuse) {
  const head = existsSync(join(ROOT, 'head.txt'))
    ? readFileSync(join(ROOT, 'head.txt'), 'utf8').trim()
    : 'main';
  execFileSync('git', ['reset', '-q', '--hard', head], { cwd: repo });
  rmSync(join(repo, '.git/roster'), { recursive: true, force: true });
  followedChanges = JSON.parse(readFileSync(join(ROOT, 'followed.json'), 'utf8'));
} else {
  await writeOneRosterDir(generateDistrict({ schools, students, seed: `history-${size}` }), base);
  const files = Object.fromEntries(
    readdirSync(base).map((f) => [f, readFileSync(join(base, f), 'utf8').split('\n').filter(Boolean)]),
  );
  console.log(
    `generated ${size}: ${files['users.csv'].length - 1} users, ${files['enrollments.csv'].length - 1} enrollments in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Daily commits through git fast-import: the changed files whole, as a SIS export would be.
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  writeFileSync(join(repo, 'roster.config.yaml'), 'roster: roster\ntargets: []\n');
  const importer = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: repo,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const done = new Promise((ok, fail) =>
    importer.on('close', (c) => (c === 0 ? ok() : fail(new Error(`fast-import ${c}`)))),
  );
  const write = (text) =>
    importer.stdin.write(text) ? Promise.resolve() : new Promise((ok) => importer.stdin.once('drain', ok));
  const blobData = async (lines) => {
    const body = Buffer.from(`${lines.join('\n')}\n`);
    await write(`data ${body.length}\n`);
    await write(body);
    await write('\n');
  };
  const header = files['users.csv'][0].split(',');
  const MIDDLE = header.indexOf('middleName');
  const changesPerDay = Math.max(5, Math.round(students / 2000));
  /**
   * The district's days, simulated again for each pass (same seed, same days): `onDay(day, users,
   * enrollments)` sees each day's files. fast-import deltas a blob against the one written just
   * before it, so each file's versions are written in a row (all users.csv, then all
   * enrollments.csv), and the commits name them by mark.
   */
  async function simulate(onDay) {
    const rnd = seededRandom(`history-${size}`);
    const users = [...files['users.csv']];
    const enrollments = [...files['enrollments.csv']];
    const followed = [];
    let added = 0;
    for (let day = 0; day < days; day++) {
      if (day > 0) {
        for (let k = 0; k < changesPerDay; k++) {
          const i = 1 + Math.floor(rnd() * (users.length - 1));
          const cells = users[i].split(',');
          if (cells[0] === FOLLOWED) continue;
          cells[MIDDLE] = `M${day}`;
          users[i] = cells.join(',');
        }
        // An enrollment dropped, one added (at the end: a SIS export's order is its own).
        const j = 1 + Math.floor(rnd() * (enrollments.length - 1));
        const [dropped] = enrollments.splice(j, 1);
        const cells = dropped.split(',');
        cells[0] = `enr-bench-${++added}`;
        enrollments.push(cells.join(','));
        if (day % EVERY === 0) {
          const i = users.findIndex((l) => l.startsWith(`${FOLLOWED},`));
          const c = users[i].split(',');
          c[MIDDLE] = `Day${day}`;
          users[i] = c.join(',');
          followed.push(day);
        }
      }
      await onDay(day, users, enrollments);
    }
    return followed;
  }
  const t1 = performance.now();
  // Marks: users.csv of day d is 1_000_000 + d, enrollments.csv 2_000_000 + d, the other files 3_000_000 + k.
  await simulate(async (day, users) => {
    await write(`blob\nmark :${1_000_000 + day}\n`);
    await blobData(users);
  });
  await simulate(async (day, _users, enrollments) => {
    await write(`blob\nmark :${2_000_000 + day}\n`);
    await blobData(enrollments);
  });
  const others = Object.keys(files).filter((f) => f !== 'users.csv' && f !== 'enrollments.csv');
  for (const [k, name] of others.entries()) {
    await write(`blob\nmark :${3_000_000 + k}\n`);
    await blobData(files[name]);
  }
  followedChanges = await simulate(async (day) => {
    const when = START + day * 86_400;
    const who = ['Alice', 'Bob', 'Carol'][day % 3];
    const msg = day === 0 ? 'Import the roster' : `Nightly SIS export, day ${day}`;
    await write(
      `commit refs/heads/main\nmark :${day + 1}\nauthor ${who} <${who.toLowerCase()}@district.example> ${when} +0000\ncommitter ${who} <${who.toLowerCase()}@district.example> ${when} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n${day > 0 ? `from :${day}\n` : ''}`,
    );
    await write(
      `M 100644 :${1_000_000 + day} roster/users.csv\nM 100644 :${2_000_000 + day} roster/enrollments.csv\n`,
    );
    if (day === 0) {
      for (const [k, name] of others.entries()) await write(`M 100644 :${3_000_000 + k} roster/${name}\n`);
      const config = 'roster: roster\ntargets: []\n';
      await write(`M 100644 inline roster.config.yaml\ndata ${Buffer.byteLength(config)}\n${config}\n`);
    }
    if (day % 100 === 0) console.log(`  day ${day} of ${days}`);
  });
  await write('done\n');
  importer.stdin.end();
  await done;
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: repo });
  // As a clone would have it: one pack, each file's versions deltas of each other.
  execFileSync('git', ['repack', '-q', '-a', '-d'], { cwd: repo });
  console.log(`committed ${days} days in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  writeFileSync(join(ROOT, 'followed.json'), JSON.stringify(followedChanges));
  writeFileSync(
    join(ROOT, 'head.txt'),
    execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }),
  );
}

function timed(argv, cwd = repo, timeoutSeconds = undefined) {
  // (`timeout` stops the tool itself: a limit on /usr/bin/time would leave the tool running.)
  const limit = timeoutSeconds ? ['timeout', '-s', 'KILL', String(timeoutSeconds)] : [];
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...limit, ...argv], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const [wall, rssKb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  if (timeoutSeconds && (r.status === 124 || r.status === 137))
    return { wall, rssMb: undefined, stdout: '', stoppedAt: timeoutSeconds };
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { wall, rssMb: Math.round(rssKb / 1024), stdout: r.stdout };
}
const du = (path) => Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);

const results = {};
// (git log -G reads every version of the files: at M that is many minutes, so it is stopped at
// --git-limit seconds, default 600, and its time is then a lower bound.)
const gitLimit = Number(args.includes('--git-limit') ? args[args.indexOf('--git-limit') + 1] : 600);
const gitLog = timed(['git', 'log', '--oneline', '-G', `,${FOLLOWED},`, '--', 'roster'], repo, gitLimit);
results['git log -G'] = {
  wallSeconds: gitLog.wall,
  peakRssMb: gitLog.rssMb,
  ...(gitLog.stoppedAt
    ? { stoppedAtSeconds: gitLog.stoppedAt, note: 'stopped at the limit: its time is a lower bound' }
    : { commits: gitLog.stdout.trim().split('\n').length }),
};
const roster = (label) => {
  const r = timed([process.execPath, BIN, 'log', FOLLOWED, '--format', 'json', '--quiet']);
  const log = JSON.parse(r.stdout);
  results[label] = {
    wallSeconds: r.wall,
    peakRssMb: r.rssMb,
    commits: log.entries.length,
    read: log.index.added,
  };
  return log;
};
const cold = roster('roster log (cold: index built)');
const warm = roster('roster log (warm)');
// One more commit: the index grows by one.
const usersFile = join(repo, 'roster/users.csv');
writeFileSync(
  usersFile,
  readFileSync(usersFile, 'utf8').replace(new RegExp(`^${FOLLOWED},[^\\n]*`, 'm'), (line) => {
    const c = line.split(',');
    c[MIDDLE] = 'OneMore';
    return c.join(',');
  }),
);
execFileSync('git', ['commit', '-q', '-am', 'One more change'], {
  cwd: repo,
  env: {
    ...process.env,
    GIT_AUTHOR_NAME: 'Dave',
    GIT_AUTHOR_EMAIL: 'dave@district.example',
    GIT_COMMITTER_NAME: 'Dave',
    GIT_COMMITTER_EMAIL: 'dave@district.example',
  },
});
const next = roster('roster log (one new commit)');

// The gate: created, then exactly the days it changed, then the new commit.
const expected = 1 + followedChanges.length;
const gate =
  cold.entries.length === expected &&
  warm.entries.length === expected &&
  next.entries.length === expected + 1 &&
  cold.entries.at(-1).changes[0].kind === 'created' &&
  next.entries[0].changes[0].fields.some((f) => f.name === 'middleName');
const gitDirBytes = du(join(repo, '.git')) - du(join(repo, '.git/roster'));
const indexBytes = du(join(repo, '.git/roster'));
const report = {
  size,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
  versions: { node: process.version, git: execFileSync('git', ['--version'], { encoding: 'utf8' }).trim() },
  inputs: {
    students,
    days,
    rosterBytes: readdirSync(join(repo, 'roster')).reduce(
      (n, f) => n + statSync(join(repo, 'roster', f)).size,
      0,
    ),
    gitDirBytes,
  },
  indexBytes,
  indexShareOfGit: Number((indexBytes / gitDirBytes).toFixed(4)),
  speedupOverGitLogG: Number(
    (results['git log -G'].wallSeconds / results['roster log (cold: index built)'].wallSeconds).toFixed(2),
  ),
  gate: gate ? 'ok' : 'FAIL',
  results,
};
console.log(JSON.stringify(report, null, 2));
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/history-${size}-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
if (!args.includes('--keep')) rmSync(ROOT, { recursive: true, force: true });
if (!gate) {
  console.error(`correctness gate FAILED: expected ${expected} entries for ${FOLLOWED}`);
  process.exit(1);
}
