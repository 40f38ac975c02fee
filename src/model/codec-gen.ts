// How the MessagePack codecs become functions: one function per schema node, built once and
// cached (`schemaCompiler`), and for the composite nodes on the hot path, source text compiled
// with `new Function` (`generate`). A generated function is a closure of its own: each gets its
// own call-site feedback, so the calls to the decoders of its parts stay monomorphic, and
// records read their fields in straight-line code. The templates name their free variables;
// the caller binds each one (codec-decode.ts, codec-encode.ts).
import type { Kind, MapKind, RecKind } from './schema.js';

/** What a codec builds for each kind of schema node; composite nodes get their parts built first. */
export interface KindBuilders<F> {
  u64: F;
  id: F;
  bytes: F;
  str: F;
  bool: F;
  event: F;
  generic: F;
  uint(bits: 8 | 16 | 32): F;
  opt(of: F): F;
  list(of: F): F;
  pair(a: F, b: F): F;
  rec(kind: RecKind): F;
  map(kind: MapKind): F;
}

/** The codec's function for a schema node, built on first use and cached by node. */
export function schemaCompiler<F>(b: KindBuilders<F>): (kind: Kind) => F {
  const cache = new Map<Kind, F>();
  const build = (kind: Kind): F => {
    switch (kind.k) {
      case 'u64':
        return b.u64;
      case 'uint':
        return b.uint(kind.bits);
      case 'id':
        return b.id;
      case 'bytes':
        return b.bytes;
      case 'str':
        return b.str;
      case 'bool':
        return b.bool;
      case 'opt':
        return b.opt(compile(kind.of));
      case 'list':
        return b.list(compile(kind.of));
      case 'pair':
        return b.pair(compile(kind.a), compile(kind.b));
      case 'rec':
        return b.rec(kind);
      case 'map':
        return b.map(kind);
      case 'event':
        return b.event;
      case 'generic':
        return b.generic;
    }
  };
  const compile = (kind: Kind): F => {
    let f = cache.get(kind);
    if (f === undefined) {
      f = build(kind);
      cache.set(kind, f);
    }
    return f;
  };
  return compile;
}

/** Compiles a template (the body of a factory that returns the function) with its free variables bound. */
export function generate<F>(template: string, free: Readonly<Record<string, unknown>>): F {
  const names = Object.keys(free);
  return new Function(...names, template)(...names.map((n) => free[n])) as F;
}

/** `d0`, `d1`, ... (or another prefix) bound to the functions of a record's fields. */
export function numbered(prefix: string, fns: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fns.forEach((f, i) => {
    out[`${prefix}${i}`] = f;
  });
  return out;
}

/** What both record templates need of a record kind: `base` fields, then `n - base` optional ones. */
function recordShape(kind: RecKind) {
  const names = kind.fields.map((f) => f[0]);
  const n = names.length;
  const tail = kind.optionalTail ?? 0;
  return { ident: kind.name.replace(/\W/g, '_'), n, tail, base: n - tail, lit: (i: number) => JSON.stringify(names[i]), names };
}

// ---------------------------------------------------------------- decoder templates

/** Free: of. */
export const OPT_DECODER = `return function decode_opt(s) {
    if (s.buf[s.pos] === 0xc0) { s.pos++; return null; }
    return of(s);
  };`;

/** Free: of, arrayLen, failAt, wrap. */
export const LIST_DECODER = `return function decode_list(s) {
    const n = arrayLen(s);
    if (n < 0) failAt(s, 'array');
    const out = [];
    let i = 0;
    try {
      for (; i < n; i++) out.push(of(s));
    } catch (e) {
      throw wrap(e, i);
    }
    return out;
  };`;

/** Free: a, b, arrayLen, failAt, wrap. */
export const PAIR_DECODER = `return function decode_pair(s) {
    const p = s.pos;
    if (arrayLen(s) !== 2) {
      s.pos = p;
      failAt(s, 'a [key, value] pair (array of 2)');
    }
    let x;
    try {
      x = a(s);
    } catch (e) {
      throw wrap(e, 0);
    }
    try {
      return [x, b(s)];
    } catch (e) {
      throw wrap(e, 1);
    }
  };`;

/**
 * A record's decoder: the array header, then each field's decoder in order (the optional tail
 * only when the array has it), then with `checked` the record's content rules. Free: d0..dN
 * (the fields' decoders), arrayLen, arity, wrap, kind, names, checkRecord, checkFail.
 */
export function recordDecoderTemplate(kind: RecKind, checked: boolean): string {
  const { ident, n, tail, base, lit, names } = recordShape(kind);
  let src = `return function decode_${ident}(s) {\n`;
  src += `  const n = arrayLen(s);\n`;
  src += tail ? `  if (n !== ${n} && n !== ${base}) arity(s, n, kind);\n` : `  if (n !== ${n}) arity(s, n, kind);\n`;
  src += `  let o, f = 0;\n  try {\n`;
  for (let i = 0; i < base; i++) src += `    const v${i} = d${i}(s); f = ${i + 1};\n`;
  src += `    o = {${names
    .slice(0, base)
    .map((_, i) => `${lit(i)}: v${i}`)
    .join(', ')}};\n`;
  if (tail) {
    src += `    if (n === ${n}) {\n`;
    for (let i = base; i < n; i++) src += `      o[${lit(i)}] = d${i}(s); f = ${i + 1};\n`;
    src += `    }\n`;
  }
  src += `  } catch (e) { throw wrap(e, names[f]); }\n`;
  if (checked) src += `  checkRecord(kind, o, checkFail);\n`;
  src += `  return o;\n};`;
  return src;
}

// ---------------------------------------------------------------- encoder templates

/**
 * A record's encoder: the array header (shorter without the optional tail), then each field's
 * encoder in order. Free: e0..eN (the fields' encoders), encFail, encWrap, short, names.
 */
export function recordEncoderTemplate(kind: RecKind): string {
  const { ident, n, tail, base, lit } = recordShape(kind);
  let src = `return function encode_${ident}(w, v) {\n`;
  src += `  if (v === null || typeof v !== 'object') encFail(${JSON.stringify(`not a ${kind.name} record: `)} + short(v));\n`;
  if (tail) src += `  const full = v[${lit(base)}] !== undefined;\n  w.arrayHeader(full ? ${n} : ${base});\n`;
  else src += `  w.arrayHeader(${n});\n`;
  src += `  let f = 0;\n  try {\n`;
  for (let i = 0; i < base; i++) src += `    e${i}(w, v[${lit(i)}]); f = ${i + 1};\n`;
  if (tail) {
    src += `    if (full) {\n`;
    for (let i = base; i < n; i++) src += `      e${i}(w, v[${lit(i)}]); f = ${i + 1};\n`;
    src += `    }\n`;
  }
  src += `  } catch (e) { throw encWrap(e, names[f]); }\n};`;
  return src;
}
