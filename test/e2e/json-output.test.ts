/**
 * `--json` on every command: stdout is one JSON document (nothing else mixed in), it matches the
 * command's documented schema, the exit code is the one the text output has, and an error is
 * `{ "error": ... }` on stdout with the text on stderr.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { type CliResult, rosterAsync } from '../helpers/cli.js';
import { tempDir, writeTree } from '../helpers/fixtures.js';
import { districtRepo } from '../helpers/repo.js';
import { testSandbox } from '../helpers/sandbox.js';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
for (const file of ['validation-report', 'plan', 'history', 'command-result']) {
  const schema = JSON.parse(readFileSync(`schemas/${file}.schema.json`, 'utf8'));
  ajv.addSchema(schema, `${file}.schema.json`);
}

/** stdout as the one JSON document it must be, checked against `schema`. */
function json(r: CliResult, schema: string): Record<string, unknown> {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  const validate = ajv.getSchema(`${schema}.schema.json`)!;
  if (!validate(value))
    throw new Error(`${schema}: ${ajv.errorsText(validate.errors)}\n${r.stdout.slice(0, 2000)}`);
  return value;
}

/** The first match of `pattern` (its group, if it has one) in the roster's files. */
function someId(dir: string, pattern: RegExp): string {
  for (const file of readdirSync(join(dir, 'roster'), { recursive: true }) as string[]) {
    if (!/\.(ya?ml|csv)$/.test(file)) continue;
    const m = pattern.exec(readFileSync(join(dir, 'roster', file), 'utf8'));
    if (m) return m[1] ?? m[0];
  }
  throw new Error(`no ${pattern} in the roster`);
}

describe('--json', () => {
  it('plan, validate, status, apply, history and the edit commands write their result objects', async () => {
    const repo = districtRepo({ students: 40 });
    const run = (...args: string[]) => rosterAsync([...args, '--json'], { cwd: repo.dir });
    const user = someId(repo.dir, /stu-\d+/);

    const [validated, planned, status, unapproved, help, dry] = await Promise.all([
      run('validate'),
      run('plan', '--detailed-exitcode'),
      run('status'),
      run('apply'),
      rosterAsync(['help', 'plan'], { cwd: repo.dir }),
      run('set', `users/${user}`, 'identifier=ID-JSON-1', '--dry-run'),
    ]);
    expect(validated.status).toBe(0);
    expect(json(validated, 'validation-report')).toMatchObject({ valid: true, errors: 0 });
    expect(planned.status).toBe(2);
    const plan = json(planned, 'plan') as { summary: { create: number } };
    expect(plan.summary.create).toBeGreaterThan(40);
    expect(status.status).toBe(0);
    expect(json(status, 'command-result')).toMatchObject({ targets: [{ target: 'local', applied: null }] });
    // No terminal to ask, and --json never prompts: a usage error, as JSON, and the text on stderr.
    expect(unapproved.status).toBe(64);
    expect(json(unapproved, 'command-result')).toMatchObject({
      error: { code: 'APPROVAL_REQUIRED', exitCode: 64 },
    });
    expect(unapproved.stderr).toContain('[APPROVAL_REQUIRED]');
    expect(help.stdout).toContain('--json');

    const applied = await run('apply', '--auto-approve');
    expect(applied.status).toBe(0);
    expect(json(applied, 'command-result')).toMatchObject({
      kind: 'apply',
      outcome: 'applied',
      target: 'local',
      serial: 1,
      summary: { create: plan.summary.create, update: 0, delete: 0 },
    });

    const planned1 = json(dry, 'command-result');
    expect(planned1).toMatchObject({
      kind: 'edit',
      written: false,
      changes: [{ id: `users/${user}`, action: 'update' }],
    });
    expect(planned1.diff).toContain('ID-JSON-1');
    const edited = await run('set', `users/${user}`, 'identifier=ID-JSON-1', '--commit', '--apply', 'local');
    expect(edited.status).toBe(0);
    const edit = json(edited, 'command-result');
    expect(edit).toMatchObject({
      kind: 'edit',
      written: true,
      apply: { kind: 'apply', outcome: 'applied', serial: 2, summary: { update: 1 } },
    });
    expect(edit.diff).toBeUndefined();
    expect(edit.commit).toMatch(/^[0-9a-f]{40}$/);

    const [log, blame, applies, status2, diff, unlocked] = await Promise.all([
      run('log', '--limit', '5'),
      run('blame', `users/${user}`),
      run('applies'),
      run('status'),
      run('diff', 'HEAD~1..HEAD', '--exit-code'),
      run('unlock', 'local', '--force'),
    ]);
    expect(json(log, 'history')).toMatchObject({ kind: 'log' });
    expect(json(blame, 'history')).toMatchObject({ kind: 'blame' });
    expect(json(applies, 'history')).toMatchObject({ kind: 'applies' });
    expect(json(status2, 'command-result')).toMatchObject({ targets: [{ applied: { serial: 2 } }] });
    expect(diff.status).toBe(2);
    expect(json(diff, 'plan')).toMatchObject({ summary: { update: 1 } });
    expect(json(unlocked, 'command-result')).toEqual({
      formatVersion: '1.0',
      kind: 'unlock',
      target: 'local',
      wasLocked: false,
    });
    // No record values in the results (a dry run's diff is what it asks for).
    for (const r of [applied, edited, status2]) expect(r.stdout).not.toMatch(/ID-JSON-1|givenName|@/);
  }, 120_000);

  it('export, convert, generate, import, init, git-setup and trust-host say what they did; errors are JSON', async () => {
    const repo = districtRepo({ students: 40 });
    const out = tempDir('roster-json-out-');
    const run = (...args: string[]) => rosterAsync([...args, '--json'], { cwd: repo.dir });
    const broken = writeTree(tempDir('roster-json-bad-'), {
      'manifest.csv': 'propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n',
      'users.csv':
        'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\nu1,,,maybe,org-1,student,u1,,A,B,,,,,,,,\n',
    });

    const portal = await testSandbox();
    const [exported, converted, generated, initialized, setUp, invalid, badConvert, noSandboxJson, trusted] =
      await Promise.all([
        run('export', '--format', 'oneroster', '--out', join(out, 'upload')),
        run('convert', 'roster', '--to', 'oneroster-1.2', '--out', join(out, 'csv')),
        run('generate', '--out', join(out, 'gen'), '--schools', '1', '--students', '10', '--seed', '3'),
        run('init', join(out, 'district')),
        run('git-setup'),
        run('validate', broken),
        run('convert', broken, '--to', 'yaml', '--out', join(out, 'never')),
        rosterAsync(['sandbox', '--data', join(out, 'sb'), '--json']),
        run('trust-host', '127.0.0.1', '--port', String(portal.sftp.port), '--dry-run'),
      ]);
    expect(json(trusted, 'command-result')).toEqual({
      formatVersion: '1.0',
      kind: 'trust-host',
      host: '127.0.0.1',
      port: portal.sftp.port,
      hostKey: portal.sftp.hostKeyFingerprint,
      pinned: [],
    });
    expect(json(exported, 'command-result')).toMatchObject({
      kind: 'export',
      mode: 'bulk',
      format: 'oneroster',
    });
    expect(json(exported, 'command-result').files).toContain(join(out, 'upload', 'users.csv'));
    expect(json(converted, 'command-result')).toMatchObject({
      kind: 'convert',
      written: true,
      oneRosterVersion: '1.2',
      validation: { valid: true },
    });
    expect(json(generated, 'command-result')).toMatchObject({ kind: 'generate', records: { orgs: 2 } });
    expect(json(initialized, 'command-result')).toMatchObject({ kind: 'init', created: expect.any(Array) });
    expect(json(setUp, 'command-result')).toMatchObject({ kind: 'git-setup', removed: false, changed: true });
    expect(invalid.status).toBe(1);
    expect(json(invalid, 'validation-report')).toMatchObject({ valid: false });
    expect(badConvert.status).toBe(1);
    expect(json(badConvert, 'command-result')).toMatchObject({ kind: 'convert', written: false, files: [] });
    // The sandbox is a server, not a result: --json is refused as any unknown flag.
    expect(noSandboxJson.status).toBe(64);
    expect(noSandboxJson.stderr).toContain('--json');

    const imported = await run('import', '--from', 'oneroster', join(out, 'csv'), '--force');
    expect(imported.status).toBe(0);
    expect(json(imported, 'command-result')).toMatchObject({
      kind: 'import',
      valid: true,
      records: { orgs: expect.any(Number) },
      validation: { oneRosterVersion: '1.2' },
    });

    // An invalid roster stops a plan: the error carries the validation report.
    writeTree(repo.dir, {
      'roster.config.yaml': `roster: ${broken}\ntargets:\n  - name: local\n    kind: dir\n    path: .roster/t\n`,
    });
    const stopped = await run('plan');
    expect(stopped.status).toBe(1);
    const failure = json(stopped, 'command-result') as {
      error: { code: string; validation: { valid: boolean } };
    };
    expect(failure.error.code).toBe('ROSTER_INVALID');
    expect(failure.error.validation.valid).toBe(false);
  }, 120_000);
});
