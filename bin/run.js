#!/usr/bin/env node
import { Errors, flush, handle, run } from '@oclif/core';

// A reader that stops early (`roster plan | head`): nothing more to say, and no stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

// As oclif's execute(), but an exit code is set only once stdout and stderr have drained: oclif
// calls process.exit() at once, which cuts a large report piped into another program
// (`roster validate --format json | jq`) to the 64 KiB the pipe holds.
try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (error) {
  if (error instanceof Errors.ExitError) {
    await drained(process.stdout);
    await drained(process.stderr);
    process.exit(error.oclif.exit ?? 1);
  }
  if (error instanceof Errors.CLIError && error.oclif?.exit === 2) {
    // An unknown command: a usage error (exit 2 means "the plan has changes").
    process.stderr.write(
      `Error [USAGE] ${error.message.split('\n')[0]}\nhint: Run \`roster help\` for the commands.\n`,
    );
    await drained(process.stderr);
    process.exit(64);
  }
  await handle(error);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function drained(stream) {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}
