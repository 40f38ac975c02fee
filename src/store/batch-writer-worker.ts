// BatchWriter's thread: commits store batches, in the order received, into its own handle on
// the store, and answers each with its outcome.
import { parentPort, workerData } from 'node:worker_threads';
import { NoSpaceError } from '../util/errors.js';
import { commitStoreBatch, type MetaEntries } from './batch.js';
import type { CommitOutcome, WriterMessage } from './batch-writer.js';
import { BlockStore } from './store.js';

const store = BlockStore.open((workerData as { dir: string }).dir);
const port = parentPort!;

function commit(m: { bytes: Uint8Array; meta: MetaEntries }): CommitOutcome {
  try {
    commitStoreBatch(store, m.bytes, m.meta);
    return null;
  } catch (e) {
    // the store's guard made it a NoSpaceError in this thread's words: the producing thread says
    // it in its own (what it was writing, what it kept) from the cause
    if (!(e instanceof NoSpaceError)) throw e;
    type Cause = { message?: string; code?: unknown; commitError?: Cause } | undefined;
    const cause = e.cause as Cause;
    const x = cause?.commitError ?? cause;
    return { message: x?.message ?? e.message, code: x?.code };
  }
}

port.on('message', (m: WriterMessage) => {
  if ('close' in m) {
    port.close();
    void store.close();
    return;
  }
  port.postMessage(commit(m));
});
