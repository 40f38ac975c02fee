// What a query refuses: bad input (HTTP 400, CLI exit 2) and a missing block, height or state
// (HTTP 404, CLI exit 2). The CLI turns both into InputError; the server into its status.

/** Bad query input: HTTP 400, CLI exit 2. */
export class QueryInputError extends Error {
  readonly status = 400;
  override name = 'QueryInputError';
}

/** No such block / height / state: HTTP 404, CLI exit 2. */
export class NotFoundError extends Error {
  readonly status = 404;
  override name = 'NotFoundError';
}

/** A string for a message: JSON-quoted, long ones clipped. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 77) + '...' : s);
}
