/** `floe <args>` in a process of its own (for signal tests): the project is the working directory. */
import { floe } from './floe-cli';

void floe(process.argv.slice(2), { cwd: process.cwd(), env: process.env }).then((r) => {
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
});
