// `stats`: what a store holds, as `reth db stats` tells it: the spork, the records and where they
// came from (archives imported, fetches), how far the replay got, and the size on disk.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../model/bytes.js';
import { headerId } from '../model/ids.js';
import type { U64 } from '../model/types.js';
import { u64 } from '../model/u64.js';
import { loadRoot, resultCount, storedResults } from '../replay/pipeline.js';
import { importedArchives } from '../store/import.js';
import { DB_NAMES, type BlockStore } from '../store/store.js';
import { openSource, printJson } from './common.js';
import { formatAmount } from './progress.js';

export interface StoreStats {
  store: string;
  root: { id: string; height: U64; chainId: string };
  records: number;
  blocks: number;
  orphans: number;
  finalizedHeight: U64 | null;
  archives: { sha256: string | null; bytes: number; records: number; complete: boolean }[];
  fetches: { rootId: string; height: U64 | null; id: string | null }[];
  replay: { generation: number; results: number; pending: number; upToDate: boolean; verdicts: Record<string, number> | null };
  disk: { fileBytes: number; usedBytes: number; pageSize: number; mapBytes: number };
  databases: Record<string, number>;
}

export function storeStats(store: BlockStore, dir: string, withVerdicts: boolean): StoreStats {
  const root = loadRoot(store);
  const archives: StoreStats['archives'] = importedArchives(store).map((a) => ({ sha256: a.sha256, bytes: a.bytes, records: a.records, complete: a.complete }));
  const fetches: StoreStats['fetches'] = [];
  for (const { key, value } of store.meta.getRange({})) {
    if (typeof key !== 'string' || !key.startsWith('fetch:')) continue;
    const v = value as { height?: string; id?: string };
    fetches.push({ rootId: key.slice('fetch:'.length), height: v.height === undefined ? null : u64(BigInt(v.height)), id: v.id ?? null });
  }
  const databases: Record<string, number> = {};
  for (const name of DB_NAMES) databases[name] = (store as unknown as Record<string, { getCount(o?: object): number }>)[name]!.getCount();
  const results = resultCount(store);
  const records = store.order.getCount();
  let verdicts: Record<string, number> | null = null;
  if (withVerdicts) {
    verdicts = {};
    for (const r of storedResults(store, true)) {
      const v = r.verdict;
      verdicts[v] = (verdicts[v] ?? 0) + 1;
    }
  }
  let finalizedHeight: U64 | null = null;
  for (const key of store.finalized.getKeys({ reverse: true, limit: 1 })) finalizedHeight = u64((key as Buffer).readBigUInt64BE(0));
  const env = store.env.getStats() as { pageSize: number; lastPageNumber: number; mapSize: number };
  let fileBytes = 0;
  try {
    fileBytes = statSync(join(dir, 'data.mdb')).size;
  } catch {
    // a temporary store on its way out: nothing to say about its file
  }
  return {
    store: dir,
    root: { id: toHex(headerId(root.rootBlock.header)), height: root.rootBlock.header.height, chainId: root.params.chainId },
    records: store.recordCount(),
    blocks: databases.blocks!,
    orphans: databases.orphans!,
    finalizedHeight,
    archives,
    fetches,
    replay: {
      generation: (store.meta.get('replayGeneration') as number | undefined) ?? 0,
      results,
      pending: Math.max(0, records - results),
      upToDate: results >= records,
      verdicts,
    },
    disk: { fileBytes, usedBytes: (env.lastPageNumber + 1) * env.pageSize, pageSize: env.pageSize, mapBytes: env.mapSize },
    databases,
  };
}

function printStats(s: StoreStats): void {
  const lines = ['spork-replay stats'];
  const row = (k: string, v: unknown) => lines.push(`  ${k.padEnd(22)} ${v}`);
  row('store', s.store);
  row('root', `${s.root.id} at height ${s.root.height} (${s.root.chainId})`);
  row('records', `${s.records} (${s.blocks} with an id, ${s.orphans} without)`);
  row('finalized height', s.finalizedHeight ?? 'none');
  if (s.archives.length === 0) row('archives imported', 'none');
  for (const a of s.archives) {
    row(
      'archive',
      `${a.sha256 ?? '(sha-256 when complete)'}: ${formatAmount(a.bytes, 'bytes')}, ${a.records} archive records (header included)${a.complete ? '' : ', incomplete (import again to resume)'}`,
    );
  }
  if (s.archives.length > 1) lines.push(`    warning: ${s.archives.length} archives share this store; their records are merged`);
  for (const f of s.fetches) row('fetched', `spork ${f.rootId}: up to height ${f.height} (${f.id})`);
  const r = s.replay;
  row(
    'replay',
    r.results === 0
      ? 'not replayed'
      : `generation ${r.generation}: ${r.results} blocks replayed${r.upToDate ? ', up to date' : `, ${r.pending} not yet (replay --db ${s.store})`}`,
  );
  if (r.verdicts !== null) for (const [v, n] of Object.entries(r.verdicts)) row(`  verdict ${v}`, n);
  row('on disk', `${formatAmount(s.disk.fileBytes, 'bytes')} file, ${formatAmount(s.disk.usedBytes, 'bytes')} used (pages of ${s.disk.pageSize} bytes)`);
  row(
    'entries',
    Object.entries(s.databases)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('what a store holds: the spork, records, archives and fetches, replay state, size on disk')
    .argument('[archive]', 'a .spork archive (imported into --db DIR, or a temporary store)')
    .option('--db <dir>', 'the LMDB store')
    .option('--verdicts', 'also count the stored verdicts (reads every result)')
    .option('--json', 'print the statistics as JSON')
    .option('--quiet', 'nothing on stderr but errors')
    .action(async (archive: string | undefined, flags: { db?: string; json?: boolean; quiet?: boolean; verdicts?: boolean }) => {
      const src = await openSource(archive, flags.db, { quiet: flags.quiet || flags.json, readOnly: true });
      try {
        const s = storeStats(src.store, flags.db ?? src.store.dir, flags.verdicts === true);
        if (flags.json) printJson(s);
        else printStats(s);
        process.exitCode = 0;
      } finally {
        await src.close();
      }
    });
}
