// Integrity kernel, single-threaded: µs per block of the model path
// (blockFacts(decodeStoredRecord(bytes))) against transcoding (transcodeFacts(bytes)) over the
// same records of a synth spork with default sizes.
// A third row times the hashing alone (SHA3 of the same preimages, prepared beforehand, the four
// tries and the payload hash): the floor that neither path can go below.
// Run: node dist/bench/transcode.js [--blocks N] [--rounds R]
import { encodeBlockRecord } from '../src/model/archive.js';
import { ZERO } from '../src/model/bytes.js';
import { sha3 } from '../src/model/hash.js';
import { preimage, tcId, writeGuarantee, writeHeader, writeReceiptStub, writeResult, writeSeal, writeTC } from '../src/model/ids.js';
import { payloadElementIds, payloadHashFromRoots, payloadRoots, type PayloadIds } from '../src/model/payload.js';
import { decodeStoredRecord } from '../src/model/record.js';
import type { Id } from '../src/model/types.js';
import { blockFacts } from '../src/replay/facts.js';
import { transcodeFacts } from '../src/replay/transcode.js';
import { synthesize } from '../src/synth/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}

async function records(blocks: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  await synthesize(
    { blocks, seed: 1 },
    {
      root: () => undefined,
      block: (rec, info) => {
        out.push(info.raw ?? encodeBlockRecord(rec));
      },
    },
  );
  return out;
}

interface Timing {
  wallUs: number;
  cpuUs: number;
}

/** One pass over every record; µs per record (wall clock and process CPU). */
function pass(recs: Uint8Array[], run: (i: number, b: Uint8Array) => unknown): Timing {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < recs.length; i++) if (run(i + 1, recs[i]) !== null) sink++;
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  return { wallUs: wall / recs.length, cpuUs: (cpu.user + cpu.system) / recs.length };
}

interface HashWork {
  preimages: Uint8Array[];
  ids: PayloadIds;
  protocolStateId: Id;
}

/** Every preimage a record's facts hash, and its element ids (for the tries). */
function hashWork(b: Uint8Array): HashWork | null {
  const d = decodeStoredRecord(b);
  if (d.header === null || d.payload === null || d.decodeError !== null) return null;
  const h = d.header;
  const p = d.payload;
  const preimages = [preimage((w, x: typeof h) => writeHeader(w, x, h.lastViewTC === null ? ZERO : tcId(h.lastViewTC)), h)];
  if (h.lastViewTC !== null) preimages.push(preimage(writeTC, h.lastViewTC));
  for (const g of p.guarantees) preimages.push(preimage(writeGuarantee, g));
  for (const x of p.seals) preimages.push(preimage(writeSeal, x));
  for (const r of p.receipts) preimages.push(preimage(writeReceiptStub, r));
  for (const r of p.results) preimages.push(preimage(writeResult, r));
  return { preimages, ids: payloadElementIds(p), protocolStateId: p.protocolStateId.slice() };
}

function hashOnly(work: (HashWork | null)[]): (i: number) => unknown {
  return (i) => {
    const x = work[i - 1];
    if (x === null) return null;
    for (const pre of x.preimages) sha3(pre);
    return payloadHashFromRoots(payloadRoots(x.ids), x.protocolStateId);
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const modelPath = (i: number, b: Uint8Array) => blockFacts(i, decodeStoredRecord(b));

async function main(): Promise<void> {
  const blocks = arg('--blocks', 20_000);
  const rounds = arg('--rounds', 5);
  const recs = await records(blocks);
  const bytes = recs.reduce((n, r) => n + r.length, 0);
  let fallbacks = 0;
  for (let i = 0; i < recs.length; i++) if (transcodeFacts(i + 1, recs[i]) === null) fallbacks++;
  const work = recs.map(hashWork);
  const paths: [string, (i: number, b: Uint8Array) => unknown][] = [
    ['model (decode + blockFacts)', modelPath],
    ['transcode (transcodeFacts)', transcodeFacts],
    ['hashing alone (SHA3 + tries)', hashOnly(work)],
  ];
  const wall: number[][] = paths.map(() => []);
  // the machine may be shared: CPU time is the figure to compare
  const cpu: number[][] = paths.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // alternate the order so neither path always runs on a warmer heap
    const order = r % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const k of order) {
      const x = pass(recs, paths[k][1]);
      wall[k].push(x.wallUs);
      cpu[k].push(x.cpuUs);
    }
  }
  console.log(
    `${recs.length} records (${blocks} main blocks, default sizes), ${(bytes / recs.length).toFixed(0)} B/record on average, ` +
      `${rounds} rounds (the first one warms up), median of the rest; transcoding fell back on ${fallbacks} records`,
  );
  console.log(`${'path'.padEnd(30)} ${'µs/block wall'.padStart(14)} ${'µs/block CPU'.padStart(13)} ${'CPU vs model'.padStart(13)}`);
  const w = wall.map((xs) => median(xs.slice(1)));
  const c = cpu.map((xs) => median(xs.slice(1)));
  for (let k = 0; k < paths.length; k++) {
    console.log(`${paths[k][0].padEnd(30)} ${w[k].toFixed(1).padStart(14)} ${c[k].toFixed(1).padStart(13)} ${(c[0] / c[k]).toFixed(2).padStart(12)}x`);
  }
}

await main();
