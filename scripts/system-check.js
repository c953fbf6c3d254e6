/**
 * Before the tests: the programs they start (OpenSSH's sshd and sftp, ssh-keygen, git, zip, ...)
 * are on this machine, or a message says which Debian packages to install. Run by `npm test`;
 * `.ci/run` installs them first.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NEEDED = [
  { program: '/usr/sbin/sshd', pkg: 'openssh-server', why: 'SFTP target tests start a real sshd' },
  { program: 'ssh-keygen', pkg: 'openssh-client', why: 'test keys' },
  { program: 'sftp', pkg: 'openssh-client', why: 'SFTP interoperability tests' },
  { program: 'git', pkg: 'git', why: 'district repos in git' },
  { program: 'zip', pkg: 'zip', why: 'OneRoster zips made by another tool' },
  { program: 'python3', pkg: 'python3', why: 'crafted malicious zips' },
  { program: 'script', pkg: 'bsdutils', why: 'apply on a pseudo-terminal' },
  { program: '/usr/bin/time', pkg: 'time', why: 'peak memory in the benchmark' },
  { program: '/usr/bin/chromium', pkg: 'chromium', why: "the sandbox's status page in a headless browser" },
];

function found(program) {
  const paths = program.startsWith('/') ? [program] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, program));
  return paths.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = NEEDED.filter((n) => !found(n.program));
if (missing.length > 0) {
  const packages = [...new Set(missing.map((m) => m.pkg))];
  process.stderr.write(
    `The tests need programs this machine does not have:\n${missing.map((m) => `  ${m.program} (${m.why}): Debian package ${m.pkg}`).join('\n')}\nInstall them, then run npm test again:\n  sudo apt-get install -y ${packages.join(' ')}\n(.ci/run does this on a fresh machine.)\n`,
  );
  process.exit(1);
}
