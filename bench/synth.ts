// Generation speed: `node dist/bench/synth.js [BLOCKS] [FILE]` generates a spork of BLOCKS
// main blocks (default 50,000) with every fault once, into FILE (default: no file, records are
// only counted), and prints blocks/s and bytes/block.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { synthesize, writeSporkArchive } from '../src/synth/index.js';
import { encodeBlockRecord } from '../src/model/archive.js';
import { blake2bBackend } from '../src/model/blake2b.js';

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 50_000);
  const file = process.argv[3];
  const opts = { blocks, seed: 'bench', faults: 'all' };
  const t0 = process.hrtime.bigint();
  let records = 0;
  let bytes = 0;
  if (file === undefined) {
    const s = await synthesize(opts, {
      root() {},
      block() {
        records++;
      },
    });
    records = s.records;
  } else if (file === '-encode') {
    await synthesize(opts, {
      root() {},
      block(rec, info) {
        records++;
        bytes += info.raw?.length ?? encodeBlockRecord(rec).length;
      },
    });
  } else {
    const path = file === '-tmp' ? join(tmpdir(), `synth-bench-${process.pid}.spork`) : file;
    const r = await writeSporkArchive(path, opts);
    records = r.records;
    bytes = r.bytes;
    if (file === '-tmp') {
      rmSync(path, { force: true });
      rmSync(`${path}.faults.json`, { force: true });
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = {
    blocks,
    records,
    seconds: +s.toFixed(2),
    blocksPerSecond: Math.round(records / s),
    bytesPerBlock: bytes > 0 ? Math.round(bytes / records) : null,
    blake2b: blake2bBackend,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
