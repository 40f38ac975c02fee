// The errors of the schema-directed codecs (codec-json, codec-decode, codec-encode) and how they
// name the offending field and value.

/** Error of the JSON conversion: `field` is the dotted path of the offending value. */
export class JsonShapeError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'JsonShapeError';
  }
}

/**
 * A well-framed value that does not fit the model (SPEC 9.2): `field` is the dotted path
 * from the decoded record's root (e.g. `payload.results[0].serviceEvents[1].event.counter`),
 * `cause` says what was wrong.
 */
export class DecodeError extends Error {
  field = '';
  override cause: string;
  /** Path segments, innermost first, while the error travels up the decoders. */
  path: (string | number)[] = [];

  constructor(cause: string) {
    super(cause);
    this.name = 'DecodeError';
    this.cause = cause;
  }

  /** Fixes `field` and `message` from the collected path (called once at the top). */
  finish(prefix?: string): this {
    this.field = fieldPath(this.path, prefix);
    this.message = this.field ? `${this.field}: ${this.cause}` : this.cause;
    return this;
  }

  toJSON(): { field: string; cause: string } {
    return { field: this.field, cause: this.cause };
  }
}

/** A value that cannot be written in the archive form of its kind. */
export class EncodeError extends Error {
  path: (string | number)[] = [];
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'EncodeError';
  }
}

/** `a.b[3].c`: the segments of a path collected innermost first, appended to `prefix`. */
export function fieldPath(innermostFirst: readonly (string | number)[], prefix = ''): string {
  let f = prefix;
  for (let i = innermostFirst.length - 1; i >= 0; i--) {
    const seg = innermostFirst[i];
    f += typeof seg === 'number' ? `[${seg}]` : f ? `.${seg}` : seg;
  }
  return f;
}

/** A value as it appears in an error message: JSON-like, bigints with `n`, at most 80 characters. */
export function short(x: unknown): string {
  let s: string;
  try {
    s = typeof x === 'bigint' ? `${x}n` : (JSON.stringify(x) ?? String(x));
  } catch {
    s = String(x);
  }
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
