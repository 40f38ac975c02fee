import { createHash } from 'node:crypto';
import type { BlockStore } from '../../src/store/store.js';

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
