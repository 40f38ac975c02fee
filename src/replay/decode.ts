// Moved to src/model/record.ts (decoding a stored record sits below the store); kept until
// the replay layer is restructured.
export { decodeStoredRecord } from '../model/record.js';
