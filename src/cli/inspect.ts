// `inspect`: everything known about one block (or every block at a height): header, verdict
// and failed checks, service events, the protocol state before and after with a field diff,
// and the versions in force. The data comes from src/server/query.ts (the HTTP server's too).
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { evaluateStore, loadRoot, resultsComplete } from '../replay/pipeline.js';
import { jsonText, NotFoundError, parseBlockSpec, QueryInputError, StoreQuery, type BlockInspection, type StateView } from '../query/query.js';
import type { BlockStore } from '../store/store.js';
import { InputError } from '../util/errors.js';
import { openSource, parseThreads } from './common.js';
import { DEFAULT_INVALID_LIMIT, invalidText, listInvalid } from './inspect-invalid.js';

interface InspectFlags {
  db?: string;
  json?: boolean;
  all?: boolean;
  invalid?: boolean;
  limit: number;
  threads: number;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show one block: header, verdict and failed checks, events, state before/after and their diff, versions')
    .argument('[archive]', 'a .spork archive (omit with --db DIR)')
    .argument('[block]', 'a 64-hex block id, or a height (the finalized block there; every block there with --all)')
    .option('--db <dir>', 'the LMDB store')
    .option('--json', "print JSON (the same as the HTTP server's /blocks/:id)")
    .option('--all', 'with a height: every block at that height, forks included')
    .option('--invalid', 'every invalid block instead of one: failed checks with rule ids, states, state diff')
    .option('--limit <n>', `with --invalid: list at most N blocks (the total is always given)`, parseLimit, DEFAULT_INVALID_LIMIT)
    .option('--threads <n>', 'worker threads if the store needs replaying', parseThreads, availableParallelism())
    .action(async (a: string | undefined, b: string | undefined, flags: InspectFlags) => {
      let archive = a;
      let block = b;
      if (flags.invalid) {
        if (block !== undefined || (archive === undefined) === (flags.db === undefined))
          throw new InputError('give --invalid ARCHIVE, or --invalid --db DIR (no block)');
        const src = await openSource(archive, flags.db, { quiet: true });
        try {
          await ensureReplayed(src.store, flags.threads);
          process.stdout.write(invalidText(listInvalid(src.store, new StoreQuery(src.store), flags.limit), flags.json === true));
          process.exitCode = 0;
        } finally {
          await src.close();
        }
        return;
      }
      if (block === undefined) {
        if (flags.db === undefined || archive === undefined) throw new InputError('give ARCHIVE BLOCK, or --db DIR BLOCK');
        block = archive;
        archive = undefined;
      }
      const spec = wrap(() => parseBlockSpec(block!));
      const src = await openSource(archive, flags.db, { quiet: true });
      try {
        await ensureReplayed(src.store, flags.threads);
        const q = new StoreQuery(src.store);
        const views = wrap(() => q.resolve(spec, flags.all === true).map((id) => q.inspect(id)));
        if (flags.json) process.stdout.write(jsonText(flags.all ? views : views[0], 2) + '\n');
        else process.stdout.write(views.map(formatInspection).join('\n'));
        process.exitCode = 0;
      } finally {
        await src.close();
      }
    });
}

function parseLimit(s: string): number {
  if (!/^[0-9]+$/.test(s) || Number(s) < 1) throw new InputError(`--limit: expected a positive integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof QueryInputError || e instanceof NotFoundError) throw new InputError(e.message);
    throw e;
  }
}

/** Replays the store unless every stored record already has a result. */
async function ensureReplayed(store: BlockStore, threads: number): Promise<void> {
  const root = loadRoot(store);
  if (resultsComplete(store)) return;
  if (store.readOnly) return;
  await evaluateStore(store, root, { threads, full: false });
}

// ---------------------------------------------------------------- human form

export function formatInspection(x: BlockInspection): string {
  const out: string[] = [];
  const w = (s: string) => out.push(s);
  const kv = (k: string, v: unknown) => w(`  ${k.padEnd(22)} ${v}`);
  w(`block ${x.id ?? '(no usable id)'}${x.root ? ' (root block)' : ''}${x.record !== null ? ` record ${x.record}` : ''}`);
  kv('height / view', `${x.height ?? '?'} / ${x.view ?? '?'}`);
  kv('parent', x.parentId ?? '?');
  kv('finalized', x.onFinalizedChain ? 'yes (on the finalized chain)' : x.finalized ? 'marked finalized, but not on the consistent finalized chain' : 'no');
  kv('verdict', x.root ? 'root (trusted; checked against the root snapshot)' : (x.verdict ?? 'not replayed yet'));
  for (const f of x.failed) kv(`  failed ${f.check}`, `[${f.rules.join(', ')}] ${f.reason}`);
  if (x.decodeError !== null) kv('decode error', x.decodeError);
  if (x.header !== null) {
    w('  header');
    for (const [k, v] of Object.entries(x.header as Record<string, unknown>)) {
      if (k === 'parentId' || k === 'height' || k === 'view') continue;
      w(
        `    ${k.padEnd(20)} ${k === 'lastViewTC' && v !== null ? `view ${(v as any).view}, newestQC view ${(v as any).newestQC?.view}` : v === null ? 'none' : typeof v === 'string' && v === '' ? '(empty)' : v}`,
      );
    }
  }
  if (x.payload !== null) {
    const p = x.payload;
    w(`  payload                ${p.guarantees} guarantees, ${p.seals.length} seals, ${p.receipts} receipts, ${p.results.length} results`);
    for (const s of p.seals) w(`    seal of ${s.blockId} (result ${s.resultId})`);
    for (const r of p.results) if (r.serviceEvents.length > 0) w(`    result ${r.id} of ${r.blockId}: ${r.serviceEvents.join(', ')}`);
  }
  kv('committed state', x.committedStateId ?? '-');
  kv('computed state', x.computedStateId ?? 'not evaluated');
  if (x.committedStateId !== null && x.computedStateId !== null && x.committedStateId !== x.computedStateId)
    w(`  (the committed state is not the computed one; the state change below is parent -> computed)`);
  if (x.events.length > 0) {
    w('  service events');
    x.events.forEach((e, i) => {
      w(`    ${i + 1}. ${e.type}: ${e.outcome} (${e.reason})`);
      if (e.event !== undefined) w(`       ${clip(jsonText((e.event as any).event), 200)}`);
    });
  }
  const v = x.versions;
  w('  versions in force');
  kv('  protocol state', v.protocolStateVersion === null ? '-' : `v${v.protocolStateVersion}`);
  kv(
    '  components',
    v.executionComponentVersion === null ? '- (below v3 or not evaluated)' : `execution ${v.executionComponentVersion}, cadence ${v.cadenceComponentVersion}`,
  );
  const pu = v.pendingUpgrade as { version: unknown; activationView: unknown } | null;
  kv('  pending upgrade', pu === null ? 'none' : `v${pu.version} at view ${pu.activationView}`);
  if (v.epochCounter !== null) kv('  epoch', `${v.epochCounter} (${v.epochPhase ?? '?'}), final view ${v.epochFinalView ?? '?'}`);
  kv('  required version', x.onFinalizedChain ? `${v.requiredVersion ?? 'unknown'} (${v.requiredVersionSource})` : '- (finalized chain only)');
  if (v.nextRequiredVersion !== null) kv('  next required', `${v.nextRequiredVersion.version} from height ${v.nextRequiredVersion.height}`);
  if (x.stateBefore !== null) {
    w(`  state after the parent (${x.stateBefore.id})`);
    for (const l of stateLines(x.stateBefore)) w(`    ${l}`);
  }
  if (x.stateAfter !== null) {
    w(`  state after the block (${x.stateAfter.id})`);
    if (x.stateBefore !== null && x.stateBefore.id === x.stateAfter.id) w('    (unchanged)');
    else for (const l of stateLines(x.stateAfter)) w(`    ${l}`);
  }
  if (x.stateBefore !== null && x.stateAfter !== null) {
    w(`  state change (${x.stateDiff.length} field${x.stateDiff.length === 1 ? '' : 's'})`);
    for (const d of x.stateDiff) w(`    ${d.text}`);
  }
  if (x.children.length > 0) kv('children', x.children.join(', '));
  return out.join('\n') + '\n';
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 3) + '...' : s;
}

/** KV store fields one per line; epoch containers summarised (identity lists are long). */
function stateLines(s: StateView): string[] {
  const lines: string[] = [];
  flatten(s.kv, 'kv', lines);
  const e = s.epoch as Record<string, any>;
  for (const k of ['previous', 'current', 'next']) {
    const c = e[k];
    if (c === null || c === undefined) {
      lines.push(`epoch.${k}: none`);
      continue;
    }
    const ids = c.identities as { ejected: boolean }[];
    const ejected = ids.filter((i) => i.ejected).length;
    const ext = (c.extensions as { firstView: unknown; finalView: unknown }[]).map((x) => `[${x.firstView}, ${x.finalView}]`).join(' ');
    lines.push(`epoch.${k}: setup ${c.setupId}, commit ${c.commitId}, ${ids.length} identities (${ejected} ejected)${ext ? `, extensions ${ext}` : ''}`);
  }
  lines.push(`epoch.fallbackTriggered: ${e['fallbackTriggered']}`);
  return lines;
}

function flatten(v: unknown, path: string, out: string[]): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, `${path}.${k}`, out);
    return;
  }
  out.push(`${path}: ${clip(jsonText(v), 160)}`);
}
