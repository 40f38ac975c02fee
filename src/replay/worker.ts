// Piscina worker: runs integrity tasks against the store opened read-only once per thread.
import { BlockStore } from '../store/store.js';
import { factsOfBatch, type IntegrityTask } from './integrity-work.js';
import { move } from 'piscina';
import { encodeFacts } from './facts-codec.js';

const stores = new Map<string, BlockStore>();

export default function run(task: IntegrityTask): unknown {
  let store = stores.get(task.dir);
  if (store === undefined) {
    store = BlockStore.open(task.dir, { readOnly: true });
    stores.set(task.dir, store);
  }
  return move(encodeFacts(factsOfBatch(task, store)));
}
