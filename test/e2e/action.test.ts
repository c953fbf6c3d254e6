/**
 * The GitHub Action end to end: the committed bundle run as the runner runs it, against a fake
 * GitHub REST API on 127.0.0.1, a district repo in git, and the dir target (the sandbox's SFTP
 * for one apply).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, runAction } from '../helpers/action.js';
import { BOT_TOKEN, type FakeGitHub, fakeGitHub, PAT_TOKEN, READ_ONLY_TOKEN } from '../helpers/github.js';
import { type DistrictRepo, districtRepo, git } from '../helpers/repo.js';
import { PASSWORD, testSandbox } from '../helpers/sandbox.js';

const LABEL = 'roster/allow-mass-change';

function stateSerial(repo: DistrictRepo): number | undefined {
  const file = join(repo.target, 'current', 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { serial: number }).serial : undefined;
}

function head(repo: DistrictRepo): string {
  return git(repo.dir, 'rev-parse', 'HEAD').trim();
}

/** Plans pull request `n` at the repo's HEAD. */
function planPull(
  repo: DistrictRepo,
  gh: FakeGitHub,
  n: number,
  extra: { token?: string; fork?: boolean } = {},
) {
  const sha = head(repo);
  gh.pulls.set(n, { head: sha, merge_commit_sha: null, merged_at: null });
  gh.commitDates.set(sha, gh.tick());
  return runAction({
    workspace: repo.dir,
    api: gh.url,
    eventName: 'pull_request',
    event: events.pullRequest(n, sha, extra.fork ? { fork: true } : {}),
    sha,
    ...(extra.token ? { token: extra.token } : {}),
    inputs: { command: 'plan' },
  });
}

/** Merges pull request `n` as the commit at HEAD, then runs the apply of the push. */
function mergeAndApply(
  repo: DistrictRepo,
  gh: FakeGitHub,
  n: number,
  message = `Merge pull request #${n} from lincoln-ps/roster-change`,
) {
  const sha = head(repo);
  const p = gh.pulls.get(n)!;
  gh.pulls.set(n, { ...p, merge_commit_sha: sha, merged_at: gh.tick() });
  gh.commitPulls.set(sha, [n]);
  return pushApply(repo, gh, message);
}

function pushApply(repo: DistrictRepo, gh: FakeGitHub, message: string) {
  const sha = head(repo);
  return runAction({
    workspace: repo.dir,
    api: gh.url,
    eventName: 'push',
    event: events.push(sha, message),
    sha,
    inputs: { command: 'apply' },
  });
}

function scheduled(repo: DistrictRepo, gh: FakeGitHub, env: NodeJS.ProcessEnv = {}) {
  return runAction({
    workspace: repo.dir,
    api: gh.url,
    eventName: 'schedule',
    event: events.schedule(),
    inputs: { command: 'apply' },
    env,
  });
}

/** Removes a school's file: its students, classes and enrollments leave the roster (a mass delete). */
function dropSchool(repo: DistrictRepo): void {
  rmSync(join(repo.dir, 'roster/schools/sch-003.yaml'));
  repo.commit('Remove Fairview High');
}

describe('the Action on pull requests', () => {
  it('posts one comment per target: created on the first push, edited on the next, untouched when the plan is the same', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 60 });
    const first = await planPull(repo, gh, 7);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.outputs).toMatchObject({ 'has-changes': 'true', held: 'false', 'failure-reason': '' });
    expect(first.outputs['plan-hash']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Number(first.outputs.added)).toBeGreaterThan(100);
    const [comment] = gh.comments.get(7)!;
    expect(gh.comments.get(7)).toHaveLength(1);
    expect(comment!.user.login).toBe('github-actions[bot]');
    expect(comment!.body).toContain('<!-- roster-plan:local -->');
    expect(comment!.body).toContain(`<!-- roster-plan-hash:${first.outputs['plan-hash']} -->`);
    expect(first.outputs['comment-url']).toBe(comment!.html_url);
    // Personal data is masked as in `roster plan --format markdown`: no name, no e-mail address.
    const school = readFileSync(join(repo.dir, 'roster/schools/sch-001.yaml'), 'utf8');
    const givenName = /givenName: (\w+)/.exec(school)![1]!;
    const personal = new RegExp(`\\b${givenName}\\b|@students\\.`);
    expect(comment!.body).not.toMatch(personal);
    expect(first.summary).not.toMatch(personal);
    expect(first.summary).toContain('+ users stu-000001');
    expect(first.summary).toContain('givenName = (personal data)');
    expect(first.summary).toContain('### roster plan: `local`');
    const planFile = JSON.parse(readFileSync(first.outputs['plan-file']!, 'utf8')) as {
      target: { name: string };
    };
    expect(planFile.target.name).toBe('local');

    repo.edit('roster/schools/sch-001.yaml', /title: Visual Arts 01/, 'title: Visual Arts 01 (Studio)');
    repo.commit('Rename a class');
    const second = await planPull(repo, gh, 7);
    expect(second.status).toBe(0);
    expect(gh.comments.get(7)).toHaveLength(1);
    expect(gh.writes()).toHaveLength(2);
    expect(gh.writes(/\/issues\/comments\/\d+$/)).toHaveLength(1); // the PATCH of the same comment
    expect(gh.comments.get(7)![0]!.id).toBe(comment!.id);
    expect(gh.comments.get(7)![0]!.body).toContain('Visual Arts 01 (Studio)');
    expect(second.outputs['plan-hash']).not.toBe(first.outputs['plan-hash']);

    const third = await planPull(repo, gh, 7);
    expect(third.status).toBe(0);
    expect(third.outputs['plan-hash']).toBe(second.outputs['plan-hash']);
    expect(gh.writes()).toHaveLength(2); // no API write for an unchanged plan
    expect(third.stdout).toContain('is up to date');
  });

  it('finds its comment on the second page, and leaves alone another user’s comment with the same marker', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 20 });
    for (let i = 0; i < 101; i++) gh.addComment(7, 'reviewer', `Looks fine (${i})`);
    const forged = gh.addComment(7, 'mallory', '<!-- roster-plan:local -->\nNothing to see here.');
    await planPull(repo, gh, 7);
    const ours = gh.comments.get(7)!.filter((c) => c.user.login === 'github-actions[bot]');
    expect(ours).toHaveLength(1);
    expect(forged.body).toBe('<!-- roster-plan:local -->\nNothing to see here.');
    repo.edit('roster/schools/sch-001.yaml', /title: Visual Arts 01/, 'title: Visual Arts 01 (Studio)');
    repo.commit('Rename a class');
    await planPull(repo, gh, 7);
    expect(gh.requests.some((r) => r.method === 'GET' && /comments\?.*page=2/.test(r.path))).toBe(true);
    expect(gh.comments.get(7)!.filter((c) => c.user.login === 'github-actions[bot]')).toHaveLength(1);
    expect(gh.writes()).toHaveLength(2); // one POST, one PATCH of our own comment
    expect(gh.writes()[1]!.path).toMatch(new RegExp(`/issues/comments/${ours[0]!.id}$`));
    expect(forged.body).toBe('<!-- roster-plan:local -->\nNothing to see here.');
  });

  it('keeps a 10,000-change plan with multibyte names under the comment limit, with a truncation notice', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 1000 });
    for (const school of ['sch-001', 'sch-002', 'sch-003'])
      repo.edit(`roster/schools/${school}.yaml`, /title: (.+)/g, 'title: "$1 — Ñandú 数学 🧮"');
    repo.commit('Multibyte titles');
    const run = await planPull(repo, gh, 9);
    expect(run.status).toBe(0);
    expect(Number(run.outputs.added)).toBeGreaterThan(10_000);
    const body = gh.comments.get(9)![0]!.body;
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(65_536);
    expect(body).toContain('数学 🧮');
    expect(body).toMatch(/\*\*Truncated:\*\* showing [\d,]+ of [\d,]+ changes/);
    expect(body.indexOf('| entity |')).toBeLessThan(body.indexOf('<details>'));
    expect(Buffer.byteLength(run.summary, 'utf8')).toBeLessThanOrEqual(1024 * 1024);
  });

  it('a fork: plans what it can read, a 403 on commenting is a warning, a target without its secret is skipped', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({
      students: 20,
      config:
        'roster: roster\ntargets:\n  - { name: local, kind: dir, path: .roster/targets/local }\n  - { name: vendor, kind: batch, url: "http://127.0.0.1:9", tokenEnv: VENDOR_TOKEN }\n',
    });
    const run = await planPull(repo, gh, 11, { token: READ_ONLY_TOKEN, fork: true });
    expect(run.status).toBe(0);
    expect(run.outputs['failure-reason']).toBe('');
    expect(run.stdout).toMatch(/^::warning title=COMMENT_NOT_POSTED::.*HTTP 403.*fork/m);
    expect(run.stdout).toMatch(/^::warning title=\w+::target "vendor" was not planned: .*VENDOR_TOKEN/m);
    expect(run.summary).toContain('### roster plan: `local`');
    expect(gh.comments.get(11)).toBeUndefined();

    // The same pull request from a branch of the repository: the missing secret is an error.
    const own = await planPull(repo, gh, 12, { token: BOT_TOKEN });
    expect(own.status).toBe(1);
    expect(own.outputs['failure-reason']).toBe('target-unavailable');
    expect(own.stdout).toMatch(/^::error title=\w+::target "vendor" could not be planned/m);
  });

  it('an invalid roster: annotations on the file and line, at most 10 of a kind, then one notice', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 40 });
    repo.edit('roster/schools/sch-001.yaml', /userSourcedId: stf-\S+/g, 'userSourcedId: stf-missing');
    repo.commit('Broken enrollments');
    const run = await planPull(repo, gh, 13);
    expect(run.status).toBe(1);
    expect(run.outputs['failure-reason']).toBe('invalid');
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(errors).toHaveLength(10);
    expect(errors[0]).toMatch(
      /^::error file=roster\/schools\/sch-001\.yaml,line=\d+,(?:col=\d+,)?title=\w+::/,
    );
    expect(run.stdout).toMatch(/^::notice title=DIAGNOSTICS_NOT_LISTED::\d+ more diagnostic/m);
    expect(run.summary).toContain('roster validate: invalid');
    expect(gh.writes()).toHaveLength(0);
  });
});

describe('the Action validating', () => {
  it('command: validate, from a folder inside the repo: the config is found above it', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 20 });
    const run = await runAction({
      workspace: repo.dir,
      api: gh.url,
      eventName: 'push',
      event: events.push(head(repo), 'Edit'),
      inputs: { command: 'validate', 'working-directory': 'roster/schools' },
    });
    expect(run.status, run.stdout).toBe(0);
    expect(run.outputs['failure-reason']).toBe('');
    expect(run.summary).toContain('### roster validate: valid');
    expect(run.stdout).toMatch(/^roster is valid: 0 errors/m);
    expect(gh.requests).toHaveLength(0); // validating asks nothing of GitHub
  });
});

describe('the Action applying from CI', () => {
  it('a merged pull request is applied when its plan is the one reviewed; refused and re-posted when it changed', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 40 });
    expect((await planPull(repo, gh, 21)).status).toBe(0);
    const applied = await mergeAndApply(repo, gh, 21);
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    expect(applied.outputs['failure-reason']).toBe('');
    expect(stateSerial(repo)).toBe(1);

    // Pull request 22 is reviewed; another change reaches main before it is merged.
    repo.edit('roster/schools/sch-001.yaml', /title: Visual Arts 01/, 'title: Visual Arts 01 (Studio)');
    repo.commit('Rename a class');
    const reviewed = await planPull(repo, gh, 22);
    repo.edit('roster/schools/sch-002.yaml', /title: Visual Arts 06/, 'title: Visual Arts 06 (Clay)');
    repo.commit('Another rename, merged first');
    const refused = await mergeAndApply(repo, gh, 22);
    expect(refused.status).toBe(1);
    expect(refused.outputs['failure-reason']).toBe('plan-changed');
    expect(refused.outputs['plan-hash']).not.toBe(reviewed.outputs['plan-hash']);
    expect(refused.stdout).toMatch(
      /^::error title=PLAN_CHANGED::the plan for "local" differs from the one reviewed on #22/m,
    );
    expect(stateSerial(repo)).toBe(1); // nothing delivered
    const comment = gh.comments.get(22)![0]!;
    expect(gh.comments.get(22)).toHaveLength(1);
    expect(comment.body).toContain('**Not applied:**');
    expect(comment.body).toContain('Visual Arts 06 (Clay)');
    expect(comment.body).toContain(`<!-- roster-plan-hash:${refused.outputs['plan-hash']} -->`);
  });

  it('a direct push is refused unless ci.allowDirectPush; a squash merge is found by its (#N) subject', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 20 });
    const direct = await pushApply(repo, gh, 'Fix a typo');
    expect(direct.status).toBe(1);
    expect(direct.outputs['failure-reason']).toBe('not-reviewed');
    expect(direct.stdout).toMatch(
      /^::error title=NOT_REVIEWED::commit \w+ was pushed without a pull request/m,
    );
    expect(stateSerial(repo)).toBeUndefined();

    // Squash-merged: the commits->pulls API does not know the commit; the subject names the PR.
    await planPull(repo, gh, 31);
    const squashed = await pushApply(repo, gh, 'Add the fall roster (#31)\n\n* details');
    expect(squashed.status).toBe(0);
    expect(stateSerial(repo)).toBe(1);

    writeFileSync(
      join(repo.dir, 'roster.config.yaml'),
      `${readFileSync(join(repo.dir, 'roster.config.yaml'), 'utf8')}ci: { allowDirectPush: true }\n`,
    );
    repo.edit('roster/schools/sch-001.yaml', /title: Visual Arts 01/, 'title: Visual Arts 01 (Studio)');
    repo.commit('Direct change');
    const allowed = await pushApply(repo, gh, 'Direct change');
    expect(allowed.status).toBe(0);
    expect(stateSerial(repo)).toBe(2);
  });

  it('a held plan is never applied by a scheduled run: it opens one issue, updated by the next run, closed by a manual release', async () => {
    const gh = await fakeGitHub();
    const repo = districtRepo({ students: 60 });
    expect((await scheduled(repo, gh)).status).toBe(0);
    dropSchool(repo);
    const held = await scheduled(repo, gh);
    expect(held.status).toBe(1);
    expect(held.outputs).toMatchObject({ 'failure-reason': 'held', held: 'true' });
    expect(held.stdout).toMatch(/^::error title=PLAN_HELD::target "local": the plan is held/m);
    expect(stateSerial(repo)).toBe(1);
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]!.title).toBe('roster: the plan for target "local" is held');
    expect(gh.issues[0]!.body).toContain('MASS_DELETE');
    expect(held.outputs['comment-url']).toBe(gh.issues[0]!.html_url);
    const again = await scheduled(repo, gh);
    expect(again.outputs['failure-reason']).toBe('held');
    expect(gh.issues).toHaveLength(1);

    // The input is honoured only on a manual run.
    const ignored = await runAction({
      workspace: repo.dir,
      api: gh.url,
      eventName: 'schedule',
      event: events.schedule(),
      inputs: { command: 'apply', 'allow-mass-change': 'true' },
    });
    expect(ignored.outputs['failure-reason']).toBe('held');
    expect(ignored.stdout).toMatch(/^::warning::allow-mass-change is honoured only on a manual run/m);
    const released = await runAction({
      workspace: repo.dir,
      api: gh.url,
      eventName: 'workflow_dispatch',
      event: events.dispatch({ 'allow-mass-change': 'true' }),
      inputs: { command: 'apply', 'allow-mass-change': 'true' },
    });
    expect(released.status).toBe(0);
    expect(stateSerial(repo)).toBe(2);
    expect(gh.issues[0]!.state).toBe('closed');
  });

  it('the label releases a hold only when a writer added it after the last push', async () => {
    const gh = await fakeGitHub();
    gh.permissions.set('principal', 'write');
    gh.permissions.set('intern', 'read');
    const repo = districtRepo({ students: 60 });
    expect((await scheduled(repo, gh)).status).toBe(0);
    // The label is on the pull request before its last push.
    gh.events.set(41, [
      { event: 'labeled', created_at: gh.tick(), actor: { login: 'principal' }, label: { name: LABEL } },
    ]);
    dropSchool(repo);
    const plan = await planPull(repo, gh, 41);
    expect(plan.outputs.held).toBe('true');
    expect(gh.comments.get(41)![0]!.body).toContain(LABEL);
    const early = await mergeAndApply(repo, gh, 41);
    expect(early.status).toBe(1);
    expect(early.outputs['failure-reason']).toBe('held');
    expect(early.stdout).toContain('was added before the last push or plan');
    expect(stateSerial(repo)).toBe(1);

    // Added again after the push, by someone who may only read: still nothing.
    gh.events
      .get(41)!
      .push({ event: 'labeled', created_at: gh.tick(), actor: { login: 'intern' }, label: { name: LABEL } });
    const reader = await mergeAndApply(repo, gh, 41);
    expect(reader.outputs['failure-reason']).toBe('held');
    expect(reader.stdout).toContain('added by intern, who has read access');

    gh.events.get(41)!.push({
      event: 'labeled',
      created_at: gh.tick(),
      actor: { login: 'principal' },
      label: { name: LABEL },
    });
    const released = await mergeAndApply(repo, gh, 41);
    expect(released.stdout).toContain('released by principal');
    expect(released.status).toBe(0);
    expect(stateSerial(repo)).toBe(2);
  });

  for (const [signals, status] of [
    [['SIGINT', 'SIGTERM'], 130],
    [['SIGTERM'], 143],
  ] as const) {
    it(`${signals.join(' then ')} mid-apply (a cancelled job): stops at a safe point, leaves no lock and nothing delivered`, async () => {
      const gh = await fakeGitHub();
      const repo = districtRepo({ students: 30 });
      const run = await runAction({
        workspace: repo.dir,
        api: gh.url,
        eventName: 'schedule',
        event: events.schedule(),
        inputs: { command: 'apply' },
        env: { ROSTER_PAUSE: 'apply:before-deliver' },
        onStart: (child) => {
          child.stderr!.on('data', (d: Buffer) => {
            if (!d.toString().includes('paused at apply:before-deliver')) return;
            for (const [i, signal] of signals.entries()) setTimeout(() => child.kill(signal), 50 * i);
          });
        },
      });
      // The runner's SIGTERM may land while the process is exiting, after its clean-up: then it
      // ends the process (status null) with the outputs already written.
      if (run.signal === null || signals.length === 1) expect(run.status).toBe(status);
      else expect(run.signal).toBe('SIGTERM');
      expect(run.outputs['failure-reason']).toBe('cancelled');
      expect(run.stdout).toMatch(
        new RegExp(`^::error title=INTERRUPTED::apply was stopped by ${signals[0]}`, 'm'),
      );
      expect(readdirSync(repo.target).filter((f) => /lock/.test(f))).toEqual([]);
      expect(stateSerial(repo)).toBeUndefined();
      // The next run applies normally: no stale lock in the way.
      expect((await scheduled(repo, gh)).status).toBe(0);
      expect(stateSerial(repo)).toBe(1);
    });
  }

  it('applies to the sandbox portal over SFTP (the bundle’s SSH without native add-ons)', async () => {
    const gh = await fakeGitHub();
    const sb = await testSandbox({ syncEvery: '300ms' });
    const repo = districtRepo({
      students: 30,
      config: `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n`,
    });
    const run = await scheduled(repo, gh, { PORTAL_PASSWORD: PASSWORD });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Applied to target "portal" \(serial 1\)/);
    expect(run.summary).toContain('**Applied** (state serial 1)');
    const again = await scheduled(repo, gh, { PORTAL_PASSWORD: PASSWORD });
    expect(again.outputs['has-changes']).toBe('false');
    expect(again.stdout).toContain('no changes, nothing to apply');
    // A personal access token: its own login is read from /user.
    const pat = await runAction({
      workspace: repo.dir,
      api: gh.url,
      eventName: 'pull_request',
      event: events.pullRequest(51, head(repo)),
      token: PAT_TOKEN,
      inputs: { command: 'plan' },
      env: { PORTAL_PASSWORD: PASSWORD },
    });
    expect(pat.status).toBe(0);
    expect(gh.comments.get(51)![0]!.user.login).toBe('roster-admin');
  });
});
