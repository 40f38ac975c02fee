import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { blockRecordFromMessage, HeightMismatch } from '../src/access/block.js';
import { MappingError } from '../src/access/errors.js';
import { AccessClient, accessServiceDefinition, encodeBlockResponse, isClientReceiveLimit, type SubscribeBlocksResponseMsg } from '../src/access/grpc.js';
import { mapRootSnapshot } from '../src/access/snapshot.js';
import { encodeArchiveHeader, encodeBlockRecord } from '../src/model/archive.js';
import { toHex } from '../src/model/bytes.js';
import { headerId } from '../src/model/ids.js';
import type { BlockRecord, RootSnapshot } from '../src/model/types.js';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { synthesize, writeSporkArchive } from '../src/synth/index.js';
import { archiveChain, asServed, chainOf, encodeBlock, rootAsServed, startAccessNode, type AccessNodeOptions } from './helpers/access-node.js';

interface Chain {
  root: RootSnapshot;
  byHeight: Map<bigint, BlockRecord>;
  head: bigint;
  rootHeight: bigint;
}

let cached: Chain | null = null;

/** 120 finalized blocks without the storyline (only flow-go event types). */
async function chain(): Promise<Chain> {
  if (cached !== null) return cached;
  let root: RootSnapshot | undefined;
  const records: BlockRecord[] = [];
  await synthesize(
    { blocks: 120, seed: 'access-node', storyline: false },
    {
      root: (r) => {
        root = r;
      },
      block: (r) => {
        records.push(r);
      },
    },
  );
  const c = chainOf(root!, records);
  cached = { root: c.root, byHeight: c.byHeight, head: c.head, rootHeight: BigInt(c.root.rootBlock.header.height) };
  return cached;
}

async function node(t: TestContext, opts: Partial<AccessNodeOptions> = {}) {
  const c = await chain();
  const n = await startAccessNode({ root: c.root, blocks: (h) => c.byHeight.get(h), head: c.head, ...opts });
  const client = new AccessClient({ address: n.address, tls: false, deadlineMs: 5000 });
  t.after(async () => {
    client.close();
    await n.stop();
  });
  return { c, n, client };
}

async function rejection(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  assert.fail('the call was expected to fail');
}

function bytesOf(rec: BlockRecord): Buffer {
  return Buffer.from(encodeBlockRecord(asServed(rec)));
}

test('ACCESS 2.2/6.3: every implemented RPC through AccessClient on loopback', async (t) => {
  const { c, n, client } = await node(t);
  assert.deepEqual(await client.ping(), {});
  const info = (await client.getNodeVersionInfo()).info;
  assert.ok(info !== null);
  assert.equal(info.semver, 'v0.44.3');
  assert.equal(toHex(info.spork_id), toHex(headerId(c.root.rootBlock.header)));
  assert.equal(info.spork_root_block_height, String(c.rootHeight));
  assert.equal(info.node_root_block_height, String(c.rootHeight));
  assert.equal((await client.getNetworkParameters()).chain_id, c.root.params.chainId);

  const latest = await client.getLatestBlockHeader(false);
  assert.equal(latest.block?.height, String(c.head));
  assert.equal(latest.block_status, 'BLOCK_FINALIZED');
  assert.equal(latest.metadata?.latest_finalized_height, String(c.head));
  assert.equal(toHex(latest.metadata!.latest_finalized_block_id), toHex(c.byHeight.get(c.head)!.blockId));
  const sealed = await client.getLatestBlockHeader(true);
  assert.equal(sealed.block_status, 'BLOCK_SEALED');
  assert.ok(BigInt(sealed.block!.height) > c.rootHeight && BigInt(sealed.block!.height) < c.head, sealed.block!.height);
  assert.equal(toHex((await client.getLatestBlock(false)).block!.id), toHex(c.byHeight.get(c.head)!.blockId));

  for (const h of [c.rootHeight + 1n, c.rootHeight + 57n, c.head]) {
    const r = await client.getBlockByHeight(h);
    assert.equal(r.metadata?.latest_finalized_height, String(c.head));
    assert.ok(bytesOf(blockRecordFromMessage(r.block, h)).equals(bytesOf(c.byHeight.get(h)!)), `height ${h}`);
    const hr = await client.getBlockHeaderByHeight(h);
    assert.equal(toHex(hr.block!.id), toHex(c.byHeight.get(h)!.blockId));
    assert.equal(hr.block!.view, String(c.byHeight.get(h)!.header.view));
  }
  const rootBlock = await client.getBlockByHeight(c.rootHeight);
  assert.equal(toHex(rootBlock.block!.id), toHex(headerId(c.root.rootBlock.header)));
  assert.equal(rootBlock.block_status, 'BLOCK_SEALED');

  const snap = await client.getProtocolStateSnapshotByHeight(c.rootHeight);
  const mapped = mapRootSnapshot(snap.serializedSnapshot).root;
  assert.ok(
    Buffer.from(encodeArchiveHeader(mapped)).equals(Buffer.from(encodeArchiveHeader(rootAsServed(c.root)))),
    'the served snapshot maps back to the root',
  );
  assert.equal(n.stats.calls.GetBlockByHeight, 4);
  assert.equal(n.stats.calls.Ping, 1);
});

test('ACCESS 6.4: NOT_FOUND above the head, below the spork root and below the node root; snapshot, stream and UNIMPLEMENTED errors', async (t) => {
  const c = await chain();
  const { client } = await node(t, { head: c.head - 10n });
  let e = await rejection(client.getBlockByHeight(c.head - 9n));
  assert.equal(e.code, status.NOT_FOUND);
  assert.match(e.details, /^not found: .*key not found$/);
  e = await rejection(client.getBlockHeaderByHeight(c.head));
  assert.equal(e.code, status.NOT_FOUND);
  e = await rejection(client.getBlockByHeight(c.rootHeight - 1n));
  assert.equal(e.code, status.NOT_FOUND);
  assert.match(
    e.details,
    new RegExp(`^not found: block height ${c.rootHeight - 1n} is less than the spork root block height ${c.rootHeight}\\. Try to use a historic node: `),
  );
  e = await rejection(client.getProtocolStateSnapshotByHeight(c.rootHeight + 1n));
  assert.equal(e.code, status.NOT_FOUND);
  assert.match(e.details, /^failed to find snapshot: /);
  e = await rejection(toPromise(client.subscribeBlocksFromStartHeight(c.rootHeight + 1n, 'BLOCK_UNKNOWN' as 'BLOCK_SEALED')));
  assert.equal(e.code, status.INVALID_ARGUMENT);
  assert.equal(e.details, 'block status is unknown. Possible variants: BLOCK_FINALIZED, BLOCK_SEALED');
  e = await rejection(toPromise(client.subscribeBlocksFromStartHeight(c.head, 'BLOCK_FINALIZED')));
  assert.equal(e.code, status.NOT_FOUND);
  assert.match(e.details, /^could not get header for height /);

  const { n: late, client: lateClient } = await node(t, { nodeRootHeight: c.rootHeight + 5n });
  assert.equal((await lateClient.getNodeVersionInfo()).info?.node_root_block_height, String(c.rootHeight + 5n));
  e = await rejection(lateClient.getBlockByHeight(c.rootHeight + 2n));
  assert.equal(e.code, status.NOT_FOUND);
  assert.match(e.details, new RegExp(`is less than the node's root block height ${c.rootHeight + 5n}\\. Try to use a different Access node: `));
  assert.equal(BigInt((await lateClient.getBlockByHeight(c.rootHeight + 5n)).block!.height), c.rootHeight + 5n);
  e = await rejection(lateClient.getProtocolStateSnapshotByHeight(c.rootHeight));
  assert.equal(e.code, status.INTERNAL);
  assert.match(e.details, /^failed to convert snapshot to bytes: /);
  e = await rejection(toPromise(lateClient.subscribeBlocksFromStartHeight(c.rootHeight + 1n, 'BLOCK_FINALIZED')));
  assert.equal(e.code, status.INVALID_ARGUMENT);
  assert.equal(e.details, `start height must be greater than or equal to the root height ${c.rootHeight + 5n}`);

  const raw = new Client(late.address, credentials.createInsecure());
  t.after(() => raw.close());
  e = await new Promise<ServiceError>((resolve) => {
    raw.makeUnaryRequest(
      '/flow.access.AccessAPI/GetBlockByID',
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.alloc(0),
      new Metadata(),
      {},
      (err) => resolve(err!),
    );
  });
  assert.equal(e.code, status.UNIMPLEMENTED);
});

/** Collects a stream's heights until it ends or fails; rejects with the stream's error. */
function toPromise(s: ReturnType<AccessClient['subscribeBlocksFromStartHeight']>, heights: bigint[] = []): Promise<bigint[]> {
  return new Promise((resolve, reject) => {
    s.on('data', (m: SubscribeBlocksResponseMsg) => heights.push(BigInt(m.block!.block_header!.height)));
    s.on('error', reject);
    s.on('end', () => resolve(heights));
  });
}

test('ACCESS 6.4: a subscription delivers heights in order from its start, waits at the head, and ends on cancel', async (t) => {
  const c = await chain();
  const start = c.rootHeight + 1n;
  const { n, client } = await node(t, { head: c.rootHeight + 20n });
  const stream = client.subscribeBlocksFromStartHeight(start, 'BLOCK_FINALIZED');
  const heights: bigint[] = [];
  const records: BlockRecord[] = [];
  const done = toPromise(stream, heights);
  stream.on('data', (m: SubscribeBlocksResponseMsg) => records.push(blockRecordFromMessage(m.block, BigInt(m.block!.block_header!.height))));
  const until = async (k: number) => {
    for (let i = 0; i < 200 && heights.length < k; i++) await new Promise((r) => setTimeout(r, 10));
  };
  await until(20);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(heights.length, 20, 'waits at the head');
  n.setHead(c.rootHeight + 35n);
  await until(35);
  stream.cancel();
  const e = await rejection(done);
  assert.equal(e.code, status.CANCELLED);
  assert.deepEqual(
    heights,
    Array.from({ length: 35 }, (_, i) => start + BigInt(i)),
  );
  for (const r of records) assert.ok(bytesOf(r).equals(bytesOf(c.byHeight.get(BigInt(r.header.height))!)));
  assert.equal(n.stats.calls.SubscribeBlocksFromStartHeight, 1);
});

test('ACCESS 6.6: each fault of the plan is observable and counted', async (t) => {
  const c = await chain();
  const h = c.rootHeight + 10n;

  const { n: a, client: ca } = await node(t, { faults: { seed: 7, unavailableEvery: 3, unavailableBurst: 2 } });
  const codes = await Promise.all(
    Array.from({ length: 6 }, () =>
      ca.ping().then(
        () => 0,
        (e: ServiceError) => e.code,
      ),
    ),
  );
  assert.equal(codes.filter((x) => x === status.UNAVAILABLE).length, 4);
  assert.equal(a.stats.faults.unavailable, 4);

  const { n: b, client: cb } = await node(t, { faults: { seed: 7, resourceExhaustedEvery: 2 } });
  const errs = (
    await Promise.all(
      Array.from({ length: 4 }, () =>
        cb.ping().then(
          () => null,
          (e: ServiceError) => e,
        ),
      ),
    )
  ).filter((x) => x !== null);
  assert.equal(errs.length, 2);
  for (const e of errs) {
    assert.equal(e.code, status.RESOURCE_EXHAUSTED);
    assert.equal(e.details, '/flow.access.AccessAPI/Ping rate limit reached, please retry later.');
    assert.equal(isClientReceiveLimit(e), false, 'sent by the server');
  }
  assert.equal(b.stats.faults.resourceExhausted, 2);

  const { n: d, client: cd } = await node(t, { faults: { internalEvery: 1, slowEvery: 1, slowMs: 300 } });
  assert.equal((await rejection(cd.getBlockByHeight(h, 2000))).code, status.INTERNAL);
  assert.deepEqual(await cd.ping(2000), {}, 'INTERNAL only on block calls');
  assert.equal((await rejection(cd.ping(100))).code, status.DEADLINE_EXCEEDED);
  assert.ok(d.stats.faults.internal >= 1 && d.stats.faults.slow >= 3);

  const { n: e, client: ce } = await node(t, { faults: { laggingNotFoundEvery: 1, shortFieldAtHeight: h, wrongHeightAtHeight: h + 1n } });
  const lag = await rejection(ce.getBlockByHeight(h + 2n));
  assert.equal(lag.code, status.NOT_FOUND, 'a height at or below the head, once');
  assert.equal(BigInt((await ce.getBlockByHeight(h + 2n)).block!.height), h + 2n);
  assert.equal(e.stats.faults.laggingNotFound, 1);
  await rejection(ce.getBlockByHeight(h)); // lagging first
  const short = await ce.getBlockByHeight(h);
  assert.throws(
    () => blockRecordFromMessage(short.block, h),
    (x: unknown) => x instanceof MappingError && /^block\.[a-z_.[\]0-9]+: 31 bytes, expected 32$/.test(x.message),
  );
  assert.ok(e.stats.faults.shortField >= 1);
  await rejection(ce.getBlockByHeight(h + 1n)); // lagging first
  const wrong = await ce.getBlockByHeight(h + 1n);
  assert.throws(() => blockRecordFromMessage(wrong.block, h + 1n), HeightMismatch);
  assert.equal(BigInt((await ce.getBlockByHeight(h + 1n)).block!.height), h + 1n, 'the wrong height is sent once');
  assert.equal(e.stats.faults.wrongHeight, 1);

  const { n: f, client: cf } = await node(t, { faults: { dropStreamAfter: 5 } });
  const heights: bigint[] = [];
  const dropped = await rejection(toPromise(cf.subscribeBlocksFromStartHeight(c.rootHeight + 1n, 'BLOCK_FINALIZED'), heights));
  assert.equal(dropped.code, status.UNAVAILABLE);
  assert.deepEqual(
    heights,
    [1n, 2n, 3n, 4n, 5n].map((i) => c.rootHeight + i),
  );
  assert.equal(f.stats.faults.streamDropped, 1);
});

test('ACCESS 6.6: a RESOURCE_EXHAUSTED raised by the client for an over-limit response is told from one the server sends', async (t) => {
  const c = await chain();
  const { n } = await node(t);
  const small = new AccessClient({ address: n.address, tls: false, maxReceiveBytes: 300 });
  t.after(() => small.close());
  const e = await rejection(small.getBlockByHeight(c.rootHeight + 3n));
  assert.equal(e.code, status.RESOURCE_EXHAUSTED);
  assert.match(e.details, /^Received message larger than max \(\d+ vs 300\)$/);
  assert.equal(isClientReceiveLimit(e), true);
  assert.deepEqual(await small.ping(), {}, 'small answers still pass');

  // a server that sends grpc-js's own wording about its limit
  const server = new Server();
  server.addService(accessServiceDefinition(), {
    Ping: (_call: unknown, cb: (e: Partial<ServiceError>) => void) =>
      cb({ code: status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (5000 vs 4194304)' }),
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  t.after(() => server.forceShutdown());
  const client = new AccessClient({ address: `127.0.0.1:${port}`, tls: false });
  t.after(() => client.close());
  const fromServer = await rejection(client.ping());
  assert.equal(fromServer.code, status.RESOURCE_EXHAUSTED);
  assert.equal(isClientReceiveLimit(fromServer), false);
  assert.equal(isClientReceiveLimit({ code: status.UNAVAILABLE, details: 'Received message larger than max (5 vs 4)' }), false);
});

test('ACCESS 2.1: heights and views above 2^53 go through the wire exactly', async (t) => {
  const c = await chain();
  const big = 2n ** 53n + 3n;
  const src = c.byHeight.get(c.rootHeight + 7n)!;
  const qc = { view: big - 2n, blockId: src.header.parentId, signerIndices: new Uint8Array([1]), sigData: new Uint8Array([2, 3]) };
  const rec: BlockRecord = {
    ...src,
    header: {
      ...src.header,
      height: big,
      view: big + 10n,
      parentView: big - 1n,
      lastViewTC: { view: big + 9n, newestQCViews: [big - 2n, 2n ** 64n - 1n], newestQC: qc, signerIndices: new Uint8Array([4]), sigData: new Uint8Array([5]) },
    },
  };
  const { client } = await node(t, { blocks: (h) => (h === big ? rec : undefined), head: big });
  const latest = await client.getLatestBlockHeader(false);
  assert.equal(latest.block?.height, big.toString());
  assert.equal(latest.metadata?.latest_finalized_height, big.toString());
  const back = blockRecordFromMessage((await client.getBlockByHeight(big)).block, big);
  assert.equal(back.header.height, big);
  assert.equal(back.header.view, big + 10n);
  assert.deepEqual(back.header.lastViewTC?.newestQCViews, [big - 2n, 2n ** 64n - 1n]);
  assert.ok(bytesOf(back).equals(bytesOf(rec)));
  const e = await rejection(client.getBlockByHeight(big + 1n));
  assert.equal(e.code, status.NOT_FOUND);
});

test('ACCESS 6.2 (test helper): archiveChain serves the finalized records of a .spork archive by height', async (t) => {
  const tmp = tempDir('access-node-');
  t.after(() => tmp.cleanup());
  const path = join(tmp.dir, 'x.spork');
  const written = await writeSporkArchive(path, { blocks: 60, seed: 'archive-chain', storyline: false, unfinalizedTail: 3 });
  const c = archiveChain(path);
  assert.equal(c.head, BigInt(written.finalizedHeight));
  assert.equal(c.byHeight.size, 60 - 3);
  assert.equal(c.blocks(c.head)?.finalized, true);
  assert.equal(c.blocks(c.head + 1n), undefined, 'unfinalized blocks are not served');
  assert.equal(toHex(c.root.rootSeal.blockId), written.rootId);
});

test('test node: answers from pre-encoded Block bytes (the fetch benchmark) are the bytes it encodes per call; faults still apply', async (t) => {
  const c = await chain();
  const encoded = new Map([...c.byHeight].map(([h, r]) => [h, encodeBlock(r)]));
  const shortAt = c.rootHeight + 30n;
  const wrongAt = c.rootHeight + 40n;
  const faults = { shortFieldAtHeight: shortAt, wrongHeightAtHeight: wrongAt };
  const { client: plain } = await node(t, { faults });
  const { n, client: raw } = await node(t, { faults, encoded: (h) => encoded.get(h) });
  const rawCall = (c2: { address: string }, h: bigint) =>
    new Promise<Buffer>((resolve, reject) => {
      const cl = new Client(c2.address, credentials.createInsecure());
      cl.makeUnaryRequest(
        '/flow.access.AccessAPI/GetBlockByHeight',
        () => encodeReq(h),
        (b: Buffer) => b,
        {},
        new Metadata(),
        (e, b) => {
          cl.close();
          if (e) reject(e);
          else resolve(b!);
        },
      );
    });
  for (let h = c.rootHeight; h <= c.head; h += 7n) {
    const [a, b] = await Promise.all([plain.getBlockByHeight(h), raw.getBlockByHeight(h)]);
    assert.deepEqual(b, a, `height ${h}`);
  }
  // byte for byte too: the bytes a node sends for the encoded path equal protobuf's encoding of the message path
  const h = c.rootHeight + 9n;
  const fromRaw = await rawCall(n, h);
  assert.ok(fromRaw.equals(encodeBlockResponse(await plain.getBlockByHeight(h))), 'BlockResponse bytes');
  const short = await raw.getBlockByHeight(shortAt);
  assert.throws(() => blockRecordFromMessage(short.block, shortAt), MappingError, 'the short field is sent');
  const wrong = await raw.getBlockByHeight(wrongAt);
  assert.throws(() => blockRecordFromMessage(wrong.block, wrongAt), HeightMismatch, 'the wrong height is sent');
  // the subscription sends the same messages
  const got: SubscribeBlocksResponseMsg[] = [];
  const s = raw.subscribeBlocksFromStartHeight(c.rootHeight + 1n, 'BLOCK_FINALIZED');
  await new Promise<void>((resolve) => {
    s.on('data', (m: SubscribeBlocksResponseMsg) => {
      got.push(m);
      if (got.length === 50) {
        s.cancel();
        resolve();
      }
    });
    s.on('error', () => resolve());
  });
  assert.equal(got.length, 50);
  for (const m of got) {
    const hh = BigInt(m.block!.block_header!.height);
    if (hh === shortAt) continue;
    assert.ok(bytesOf(blockRecordFromMessage(m.block, hh)).equals(bytesOf(c.byHeight.get(hh)!)), `stream height ${hh}`);
  }
});

function encodeReq(h: bigint): Buffer {
  const out = [0x08];
  let x = h;
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x), 0x10, 1);
  return Buffer.from(out);
}
