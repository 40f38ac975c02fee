// `synth`: a deterministic, realistic spork with injected faults.
import { InvalidArgumentError, type Command } from 'commander';
import { SYNTH_PROFILES, parseFaults, resolveOptions, writeSporkArchive, type SynthOptions, type SynthProfile } from '../synth/index.js';
import { InputError } from '../util/errors.js';
import { parseCount, printJson } from './common.js';

function faultsArg(s: string): string {
  try {
    parseFaults(s);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
  return s;
}

function profileArg(s: string): SynthProfile {
  if (!(SYNTH_PROFILES as readonly string[]).includes(s)) throw new InvalidArgumentError(`expected one of ${SYNTH_PROFILES.join(', ')}`);
  return s as SynthProfile;
}

/** Option combinations the generator refuses (e.g. forks with --profile flow) are bad usage. */
function checkOptions(opts: SynthOptions): void {
  try {
    resolveOptions(opts);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(e.message);
    throw e;
  }
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('generate a deterministic spork archive (epochs, upgrades, beacons, fallback, forks) with injected faults')
    .requiredOption('--out <file>', 'the archive to write (faults also go to FILE.faults.json)')
    .option('--blocks <n>', 'finalized main-chain blocks after the root', parseCount, 10_000)
    .option('--seed <s>', 'any string; same options and seed give the same bytes', '1')
    .option(
      '--profile <name>',
      'spec: every feature the replay models; flow: only what a Mainnet28 Access node could serve (flow-mainnet, KV v2, flow-go events, finalized blocks only)',
      profileArg,
    )
    .option(
      '--faults <list>',
      'KIND[:COUNT],... of decode-error, id-mismatch, payload-mismatch, unknown-parent, bad-linkage, bad-seal, state-mismatch, unsupported-version, or all[:COUNT]',
      faultsArg,
    )
    .option('--guarantees <n>', 'collection guarantees per block', parseCount)
    .option('--chunks <n>', 'chunks per execution result', parseCount)
    .option('--executors <n>', 'execution receipts per result', parseCount)
    .option('--approvals <n>', 'approval signatures per seal', parseCount)
    .option('--epoch-views <n>', 'views per epoch', parseCount)
    .option('--safety-threshold <n>', 'finalizationSafetyThreshold t', parseCount)
    .option('--extension-views <n>', 'epochExtensionViewCount E (>= 2t)', parseCount)
    .option('--fork-every <n>', 'average blocks between abandoned forks (0: none)', parseCount)
    .option('--unfinalized-tail <n>', 'the last N main blocks are not finalized', parseCount)
    .option('--no-storyline', 'only plain blocks, epochs and forks')
    .option('--json', 'print the generation summary as JSON')
    .action(async (flags: Record<string, any>) => {
      const opts: SynthOptions = {
        profile: flags.profile,
        blocks: flags.blocks,
        seed: flags.seed,
        faults: flags.faults,
        guarantees: flags.guarantees,
        chunks: flags.chunks,
        executors: flags.executors,
        approvals: flags.approvals,
        epochViews: flags.epochViews,
        safetyThreshold: flags.safetyThreshold,
        extensionViews: flags.extensionViews,
        forkEvery: flags.forkEvery,
        unfinalizedTail: flags.unfinalizedTail,
        storyline: flags.storyline,
      };
      for (const k of Object.keys(opts) as (keyof SynthOptions)[]) if (opts[k] === undefined) delete opts[k];
      checkOptions(opts);
      const r = await writeSporkArchive(flags.out, opts);
      if (flags.json) printJson(r);
      else {
        process.stdout.write(`${r.path}: ${r.bytes} bytes in ${r.seconds.toFixed(1)}s` + (r.manifestPath ? `; faults in ${r.manifestPath}` : '') + '\n');
      }
    });
}
