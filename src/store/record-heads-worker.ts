// Worker module of HeadDecoder's pool: decodes one batch of records.
export { headsOf as default } from './record-heads.js';
