// A value from an Access node or a root snapshot that cannot be written in the archive model,
// or that cannot come from flow-go >= v0.43 (ACCESS.md 6.6 "Stops"). `path` names where: a JSON
// path inside a snapshot or an event payload (`$.SealingSegment.Blocks[0]...`), or a protobuf
// field path (`block.block_header.timestamp`); the fetch adds the height in front.
export class MappingError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'MappingError';
  }
}
