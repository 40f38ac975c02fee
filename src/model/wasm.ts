// The few pieces of the WebAssembly binary format (core spec, chapter 5) that the generated
// hash modules need: LEB128 integers, sections and names, and instantiation.

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 64-bit value (i64.const / i32.const immediates). */
export function sleb64(x: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    if ((x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A module: the magic and version, then the sections in order. */
export function wasmModule(...sections: number[][]): Uint8Array {
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
}

export function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

export function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** The WebAssembly JS API (the project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** Instantiates a module without imports; null where WebAssembly is unavailable. */
export function instantiate(bytes: Uint8Array): Record<string, unknown> | null {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  return new api.Instance(new api.Module(bytes), {}).exports;
}
