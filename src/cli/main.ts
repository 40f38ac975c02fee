// spork-replay command line. Exit codes (SPEC 6): 0 all good, 1 findings, 2 bad usage or input.
import { Command, CommanderError } from 'commander';
import { InputError } from '../util/errors.js';
import { registerImport, registerExport } from './import.js';
import { registerReplay, registerVersions } from './replay.js';
import { registerSynth } from './synth.js';
import { registerBootstrap } from './bootstrap.js';
import { registerInspect } from './inspect.js';
import { registerServe } from './serve.js';
import { registerReport } from './report.js';

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
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with code 0; every usage error is exit 2 (SPEC 6).
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    if (e instanceof InputError) {
      process.stderr.write(`spork-replay: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`spork-replay: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    return 2;
  }
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  process.exitCode = code;
}
