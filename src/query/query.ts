// The query layer's entry: what cli/ (inspect, bootstrap-check) and server/ import. The parts:
// refs.ts (block references), store-query.ts (the StoreQuery class), events.ts (a block's
// applied events, SPEC 4.2 through the replay's implementation), views.ts (the JSON shapes),
// diff.ts (state diffs), lru.ts, errors.ts; the 64-bit JSON rule is model/json-u64.ts.
export { jsonText } from '../model/json-u64.js';
export { diffJson, type DiffEntry } from './diff.js';
export { NotFoundError, QueryInputError } from './errors.js';
export { Lru } from './lru.js';
export { ALIASES, BLOCK_FORMS, MIN_PREFIX, parseBlockSpec, parseHeight, parseList, stableRef, type BlockAlias, type BlockSpec } from './refs.js';
export { StoreQuery, type BootstrapParams, type ChainIndex } from './store-query.js';
export type { BlockInspection, EventView, FailedCheck, FullStateView, PayloadView, StateView, VersionsView } from './views.js';
