import { createHash } from 'node:crypto';
import { Evaluator, type BlockResult } from '../../src/replay/evaluate.js';
import { IntegrityStage } from '../../src/replay/integrity.js';
import { loadRoot, rootContext } from '../../src/replay/pipeline.js';
import { join } from 'node:path';
import { importArchive } from '../../src/store/import.js';
import { BlockStore } from '../../src/store/store.js';
import { tempDir } from './tmp.js';

/** A digest of everything import writes (all dbs but the replay's), for store equality. */
export function storeDigest(store: BlockStore): string {
  const h = createHash('sha256');
  for (const name of ['blocks', 'orphans', 'records', 'order', 'children', 'finalized'] as const) {
    h.update(`[${name}]`);
    for (const { key, value } of store[name].getRange({})) {
      h.update(key);
      h.update(value);
    }
  }
  h.update('[meta]');
  for (const { key, value } of store.meta.getRange({})) {
    if (String(key).startsWith('replay')) continue;
    h.update(String(key));
    h.update(JSON.stringify(value, (_k, x) => (x instanceof Uint8Array || (x && x.type === 'Buffer') ? Buffer.from(x).toString('hex') : x)));
  }
  return h.digest('hex');
}

/** Every result the evaluator gives for an imported store, in this thread (nothing is stored). */
export async function evaluatedResults(store: BlockStore): Promise<BlockResult[]> {
  const out: BlockResult[] = [];
  const ev = new Evaluator(rootContext(loadRoot(store)), {
    isStored: (id) => store.blocks.doesExist(Buffer.from(id)),
    onResult: (r) => out.push(r),
  });
  const stage = new IntegrityStage(store, 0, null);
  for await (const items of stage.run()) for (const item of items) ev.push(item.facts!);
  ev.finish();
  return out;
}

/** Runs `use` on a temporary store holding `archive` (removed afterwards). */
export async function withImported<T>(archive: string, use: (store: BlockStore) => Promise<T>): Promise<T> {
  const t = tempDir('spork-imported-');
  const store = BlockStore.open(join(t.dir, 'db'));
  try {
    await importArchive(store, archive);
    return await use(store);
  } finally {
    await store.close();
    t.cleanup();
  }
}
