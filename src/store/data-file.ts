// What LMDB's data file says about itself, read with plain reads before LMDB maps it. Layout
// of lmdb-js's LMDB build (mdb.master3, 64-bit): pages 0 and 1 are meta pages, each after a
// 24-byte page header: magic u32 at 24, version, address, map size, the free and main db
// records (48 bytes each; the free db's first u32 is the page size), the last page number u64
// at 144, the txn id u64 at 152. Little-endian.
//
// The file must hold every page up to the last page the newest meta page names: a page past the
// end is what kills a reader with SIGBUS. LMDB itself does not keep to that: pages a transaction
// allocated and freed again ("loose" pages) are never written, so a commit can leave the file up
// to a few hundred pages short of its header. BlockStore's writers extend the file to the
// header's size after each of their transactions (padDataFile), so a short file is a damaged
// one (cut short by a copy or by hand), or one a writer has committed to in this very moment.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';

const MDB_MAGIC = 0xbeefc0de;
const META = { magic: 24, pageSize: 48, lastPage: 144, txnId: 152, end: 160 };
/** A short file is looked at again this often, this many milliseconds apart (a commit in progress). */
const RECHECKS = 5;
const RECHECK_MS = 20;

interface MetaPage {
  pageSize: number;
  lastPage: bigint;
  txnId: bigint;
}

function readMeta(b: Buffer, at: number): MetaPage | null {
  if (at + META.end > b.length || b.readUInt32LE(at + META.magic) !== MDB_MAGIC) return null;
  const pageSize = b.readUInt32LE(at + META.pageSize);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return null;
  return { pageSize, lastPage: b.readBigUInt64LE(at + META.lastPage), txnId: b.readBigUInt64LE(at + META.txnId) };
}

type Layout = { kind: 'empty' } | { kind: 'invalid'; problem: string } | { kind: 'lmdb'; size: number; need: bigint; pages: bigint; pageSize: number };

function layout(fd: number): Layout {
  const head = Buffer.alloc(2 * 65536);
  const n = readSync(fd, head, 0, head.length, 0);
  // the size after the header: a writer extends the file before it commits a meta page naming it
  const size = fstatSync(fd).size;
  if (size === 0) return { kind: 'empty' };
  const b = head.subarray(0, n);
  const first = readMeta(b, 0);
  const second = readMeta(b, first?.pageSize ?? 4096);
  if (first === null && second === null) {
    const problem = size < 2 * 4096 ? `data.mdb is ${size} bytes, too short for LMDB's header pages` : 'data.mdb is not an LMDB data file (no valid meta page)';
    return { kind: 'invalid', problem };
  }
  const meta = first === null ? second! : second === null || first.txnId >= second.txnId ? first : second;
  const pages = meta.lastPage + 1n;
  return { kind: 'lmdb', size, need: pages * BigInt(meta.pageSize), pages, pageSize: meta.pageSize };
}

/** Why the data file at `path` cannot be mapped safely, or null. An empty file is a store being created. */
export function dataFileProblem(path: string): string | null {
  for (let attempt = 0; ; attempt++) {
    const fd = openSync(path, 'r');
    let l: Layout;
    try {
      l = layout(fd);
    } finally {
      closeSync(fd);
    }
    if (l.kind === 'empty') return null;
    if (l.kind === 'invalid') return l.problem;
    if (BigInt(l.size) >= l.need) return null;
    if (attempt >= RECHECKS) {
      return `data.mdb is ${l.size} bytes but its header says ${l.need} (${l.pages} pages of ${l.pageSize} bytes): the file was cut short`;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RECHECK_MS);
  }
}

/**
 * Extends the data file to the size its newest meta page names (the unwritten loose pages
 * become a hole: no disk space). Call only while holding LMDB's write lock (inside a write
 * transaction), so that no other writer grows the file meanwhile.
 */
export function padDataFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    const l = layout(fd);
    if (l.kind === 'lmdb' && BigInt(l.size) < l.need) ftruncateSync(fd, Number(l.need));
  } finally {
    closeSync(fd);
  }
}
