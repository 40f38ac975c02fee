// `spork-replay export`: the stored records back as an archive, in import order. Importing a
// canonical archive and exporting it gives the same bytes.
import { createWriteStream } from 'node:fs';
import type { BlockStore } from './store.js';
import { InputError } from '../util/errors.js';

export async function exportArchive(store: BlockStore, outPath: string, onProgress?: (done: number, total: number) => void): Promise<number> {
  const header = store.rootHeaderBytes();
  if (header === undefined) throw new InputError(`${store.dir}: the store holds no spork`);
  const out = createWriteStream(outPath);
  const total = store.recordCount();
  let records = 0;
  const write = (b: Uint8Array) => (out.write(b) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(header);
  for (const { key, value: id } of store.records.getRange({})) {
    const bytes = id.length === 32 ? store.blocks.getBinary(id) : store.orphans.getBinary(key);
    if (bytes === undefined) throw new Error(`store inconsistent: record ${key.toString('hex')} has no bytes`);
    await write(bytes);
    records++;
    if ((records & 4095) === 0) onProgress?.(records, total);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return records;
}
