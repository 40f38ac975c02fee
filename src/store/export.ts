// `spork-replay export`: the stored records back as an archive, in import order. Importing a
// canonical archive and exporting it gives the same bytes. Writes are synchronous and buffered
// (a failed write throws at once, with nothing left pending).
import { closeSync, openSync, writeSync } from 'node:fs';
import type { BlockStore } from './store.js';
import { InputError } from '../util/errors.js';

const BUFFER = 1 << 20;

export async function exportArchive(store: BlockStore, outPath: string, onProgress?: (done: number, total: number) => void): Promise<number> {
  const header = store.rootHeaderBytes();
  if (header === undefined) throw new InputError(`${store.dir}: the store holds no spork`);
  const fd = openSync(outPath, 'w');
  const total = store.recordCount();
  let records = 0;
  const buf = Buffer.allocUnsafe(BUFFER);
  let used = 0;
  const flush = () => {
    for (let off = 0; off < used; ) off += writeSync(fd, buf, off, used - off);
    used = 0;
  };
  const write = (b: Uint8Array) => {
    if (used + b.length > BUFFER) flush();
    if (b.length > BUFFER) {
      for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
      return;
    }
    buf.set(b, used);
    used += b.length;
  };
  try {
    write(header);
    for (const { key, value: id } of store.records.getRange({})) {
      const bytes = id.length === 32 ? store.blocks.getBinary(id) : store.orphans.getBinary(key);
      if (bytes === undefined) throw new Error(`store inconsistent: record ${key.toString('hex')} has no bytes`);
      write(bytes);
      records++;
      if ((records & 4095) === 0) {
        onProgress?.(records, total);
        await new Promise((r) => setImmediate(r)); // let signals and progress through
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return records;
}
