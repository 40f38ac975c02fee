// spork-replay command line. Exit codes: 0 all good, 1 findings, 2 bad usage or input (or a failing machine).
// Every error reaches `run`, which prints it as one line (and under --json as an object on stdout too).
import { Command, CommanderError } from 'commander';
import { type CliError, DamagedStoreError, EnvironmentError, NoSpaceError, PartialImportError, classify, failureLine } from '../util/errors.js';
import { fileBeingWritten } from '../util/atomic-file.js';
import { registerImport, registerExport } from './import.js';
import { registerReplay, registerVersions } from './replay.js';
import { registerSynth } from './synth.js';
import { registerBootstrap } from './bootstrap.js';
import { registerInspect } from './inspect.js';
import { registerServe } from './serve.js';
import { registerReport } from './report.js';
import { registerFetch, registerImportRoot } from './fetch.js';
import { registerStats } from './stats.js';
import { addHelpFooters } from './help.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spork-replay')
    .description("Replays a Flow-style spork from its root block and proves every block's protocol state and required versions.")
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
  registerStats(program);
  for (const c of program.commands) {
    if (!c.options.some((o) => o.long === '--quiet')) c.option('--quiet', 'nothing on stderr but errors');
  }
  addHelpFooters(program);
  for (const c of program.commands) c.exitOverride();
  program.hook('preAction', (_program, command) => {
    if (command.opts().quiet === true) muteStderr();
  });
  return program;
}

/** --quiet: nothing on stderr but the CLI's own error lines (progress, log lines and warnings go); `run` restores it. */
function muteStderr(): void {
  const through = process.stderr.write;
  const writeStderr = (chunk: string, ...rest: []) => through.call(process.stderr, chunk, ...rest);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    if (typeof chunk === 'string' && chunk.startsWith('spork-replay: ') && !chunk.startsWith('spork-replay: warning'))
      return writeStderr(chunk, ...(rest as []));
    const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stderr.write;
}

/** Whether the command line asks for JSON (before a `--` that ends the options). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Under --json an error is also one JSON object on stdout: what scripts parse instead of stderr. */
function printJsonError(code: number, kind: string, message: string, hint?: string): void {
  const error: Record<string, unknown> = { exitCode: code, kind, message };
  if (hint !== undefined) error.hint = hint;
  process.stdout.write(JSON.stringify({ error }) + '\n');
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
    const onOutputError = Object.assign(
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
        lastResort(e);
      },
      { sporkReplay: true },
    );
    stream.on('error', onOutputError);
  }
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);
  const program = buildProgram();
  const stderrWrite = process.stderr.write;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const json = wantsJson(argv);
    if (e instanceof CommanderError) {
      // --help and --version end with code 0; every usage error is exit 2
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (json) printJsonError(2, 'usage', e.message.replace(/^error: /, ''));
      return 2;
    }
    const known = classify(e);
    process.stderr.write(`spork-replay: ${failureLine(e)}\n`);
    const code = known?.exitCode ?? 2;
    if (json) {
      if (known === null) printJsonError(code, 'internal', e instanceof Error ? e.message : String(e));
      else printJsonError(code, kindOf(known), known.message, known.hint);
    }
    return code;
  } finally {
    process.stderr.write = stderrWrite;
    process.off('uncaughtException', lastResort);
    process.off('unhandledRejection', lastResort);
  }
}

function kindOf(e: CliError): string {
  if (e instanceof DamagedStoreError) return 'damaged-store';
  if (e instanceof NoSpaceError) return 'no-space';
  if (e instanceof EnvironmentError) return 'environment';
  if (e instanceof PartialImportError) return 'partial-input';
  return 'input';
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  process.exitCode = code;
}
