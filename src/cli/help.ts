// What `--help` of each command ends with: examples, what each exit code means for it, and for
// `serve` the HTTP routes. One table, applied to every command by main.ts.
import type { Command } from 'commander';
import { ROUTES } from '../server/server.js';

interface CommandHelp {
  examples: readonly string[];
  /** What exit code 0 and (where the command has findings) 1 mean for this command. */
  ok: string;
  findings?: string;
  more?: string;
}

const HELP: Record<string, CommandHelp> = {
  synth: {
    examples: [
      'spork-replay synth --out spork.spork --blocks 100000 --seed 7',
      'spork-replay synth --out incident.spork --faults state-mismatch,bad-seal:2',
      'spork-replay synth --out flow.spork --profile flow --blocks 20000',
    ],
    ok: 'the archive (and FILE.faults.json) is written',
  },
  import: {
    examples: ['spork-replay import data/sample.spork --db store', 'spork-replay import data/sample.spork --db store --json'],
    ok: 'every record is stored (again: nothing changes); an interrupted import resumes where it stopped',
  },
  fetch: {
    examples: [
      'spork-replay fetch --access access.mainnet.nodes.onflow.org:9000 --root-snapshot root-protocol-state-snapshot.json --db mainnet28',
      'spork-replay fetch --access 127.0.0.1:9000 --insecure --db store --follow',
    ],
    ok: 'fetched to the head or --to (or stopped by SIGINT/SIGTERM, with everything written kept)',
    more: "exit 2 also for a refused root, a node that is not the spork's, or a block that cannot be mapped (one line naming the height and the field)",
  },
  'import-root': {
    examples: ['spork-replay import-root root-protocol-state-snapshot.json --db mainnet28'],
    ok: "the root is valid and stored (or already the store's)",
    more: 'exit 2 when the root is refused: the failed check with both values',
  },
  export: {
    examples: ['spork-replay export --db store --out copy.spork'],
    ok: 'the archive is written (the same bytes for the same records)',
  },
  replay: {
    examples: [
      'spork-replay replay data/sample.spork',
      'spork-replay replay data/incident.spork --db incident --report incident.jsonl',
      'spork-replay replay --db incident --json',
    ],
    ok: 'every block is ok or only off the finalized chain invalid',
    findings: 'a finalized block is invalid, the finalized chain is broken, or a version finding (see the summary)',
  },
  versions: {
    examples: ['spork-replay versions data/sample.spork', 'spork-replay versions --db store --json'],
    ok: 'the version map is printed',
  },
  'bootstrap-check': {
    examples: [
      'spork-replay bootstrap-check data/sample.spork --binary v0.41.0',
      'spork-replay bootstrap-check --db store --binary 0.42.1 --supports 0.0,1.0 --from 90002000 --to 90002500 --json',
    ],
    ok: 'the binary may execute every height of the range',
    findings: 'some heights need another version, are a silent-fork risk, or their required version is unknown (each range with its reason)',
  },
  inspect: {
    examples: ['spork-replay inspect --db store 90001053', 'spork-replay inspect --db store 3f2a9c01d4e5b6a7 --json', 'spork-replay inspect --db store latest'],
    ok: 'the block is shown',
    more: 'exit 2 for an unknown block or an ambiguous id prefix',
  },
  serve: {
    examples: ['spork-replay serve --db store --port 8080', 'curl -s http://127.0.0.1:8080/blocks/90001053'],
    ok: 'stopped by SIGINT/SIGTERM',
    more: 'exit 2 when the store is missing or the address cannot be bound',
  },
  report: {
    examples: ['spork-replay report data/incident.spork --html incident.html', 'spork-replay report --db store --html report.html --title "Mainnet28"'],
    ok: 'the page is written (its findings are in the page; replay gives exit 1 for them)',
  },
  stats: {
    examples: ['spork-replay stats --db store', 'spork-replay stats --db store --json'],
    ok: 'the statistics are printed',
  },
};

function footer(name: string, h: CommandHelp): string {
  const lines = ['', 'Examples:', ...h.examples.map((e) => `  ${e}`), '', 'Exit codes:', `  0  ${h.ok}`];
  lines.push(h.findings === undefined ? '  1  (not used by this command)' : `  1  ${h.findings}`);
  lines.push('  2  bad usage or input, or the machine failed (a full disk, a damaged store): one line on stderr naming the cause');
  if (h.more !== undefined) lines.push(`     (${h.more})`);
  if (name === 'serve') {
    lines.push(
      '',
      'HTTP routes (GET or HEAD; JSON bodies; an error is {"error": "..."} with status 400 bad parameter, 404 unknown block or route, 405 other methods, 414 target too long):',
      ...ROUTES.map((r) => `  ${r}`),
    );
  }
  lines.push('', 'Options --json (machine output on stdout, errors too as {"error": ...}) and --quiet (nothing on stderr but errors).');
  return lines.join('\n');
}

/** Adds the footer to every command of the program; a command missing from the table is a bug. */
export function addHelpFooters(program: Command): void {
  for (const c of program.commands) {
    const h = HELP[c.name()];
    if (h === undefined) throw new Error(`no help footer for command ${c.name()}`);
    c.addHelpText('after', footer(c.name(), h));
  }
  program.addHelpText('after', '\nExit codes: 0 all good, 1 findings, 2 bad usage or input. `spork-replay COMMAND --help` has examples for each command.');
}
