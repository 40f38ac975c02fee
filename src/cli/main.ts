// spork-replay command line. Exit codes (SPEC 6): 0 all good, 1 findings, 2 bad usage or input.
import { Command, CommanderError } from 'commander';
import { classify, failureLine } from '../util/errors.js';
import { fileBeingWritten } from '../util/atomic-file.js';
import { registerImport, registerExport } from './import.js';
import { registerReplay, registerVersions } from './replay.js';
import { registerSynth } from './synth.js';
import { registerBootstrap } from './bootstrap.js';
import { registerInspect } from './inspect.js';
import { registerServe } from './serve.js';
import { registerReport } from './report.js';
import { registerFetch, registerImportRoot } from './fetch.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spork-replay')
    .description('Replays a Flow-style spork from its root block and proves every block\'s protocol state and required versions.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  registerSynth(program);
  registerImport(program);
  registerFetch(program);
  registerImportRoot(program);
  registerExport(program);
  registerReplay(program);
  registerVersions(program);
  registerBootstrap(program);
  registerInspect(program);
  registerServe(program);
  registerReport(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI; resolves with the exit code (the launcher sets process.exitCode). */
export async function run(argv: string[]): Promise<number> {
  // Failures that escaped every path (an unhandled stream 'error' event, a rejected promise
  // nobody awaited) still end as one line and exit 2; unknown ones are still reported as bugs.
  const lastResort = (e: unknown) => {
    process.stderr.write(`spork-replay: ${failureLine(e, fileBeingWritten())}\n`);
    process.exit(2);
  };
  // A reader that went away (`| head`) ends the output, not the process with a stack; the
  // error can arrive after the command returned, so these listeners stay.
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').some((l) => (l as { sporkReplay?: boolean }).sporkReplay)) continue;
    const onOutputError = Object.assign((e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      lastResort(e);
    }, { sporkReplay: true });
    stream.on('error', onOutputError);
  }
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with code 0; every usage error is exit 2 (SPEC 6).
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    process.stderr.write(`spork-replay: ${failureLine(e)}\n`);
    return classify(e)?.exitCode ?? 2;
  } finally {
    process.off('uncaughtException', lastResort);
    process.off('unhandledRejection', lastResort);
  }
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  process.exitCode = code;
}
