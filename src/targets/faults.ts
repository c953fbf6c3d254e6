/**
 * Fault injection for tests: when ROSTER_FAULT names a point, the process kills itself there
 * (SIGKILL, no clean-up), as a power cut or an OOM kill would. Unset in normal use.
 */
export function faultPoint(name: string): void {
  if (process.env.ROSTER_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
