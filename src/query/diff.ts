// A structural diff of two JSON values (the state change `inspect` and /blocks/:id show).
import { jsonText } from '../model/json-u64.js';

export interface DiffEntry {
  /** e.g. `kv.versionUpgrade.activationView`, `epoch.current.extensions[1]` */
  path: string;
  change: 'changed' | 'added' | 'removed';
  before?: unknown;
  after?: unknown;
  /** e.g. `kv.versionUpgrade.activationView: 1200 -> 1500` */
  text: string;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function short(v: unknown, max = 160): string {
  const s = v === undefined ? 'undefined' : jsonText(v);
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return jsonText(a) === jsonText(b);
}

/**
 * Field-by-field differences between two JSON values (objects by key, arrays by index);
 * a value that changes kind (null <-> object, object <-> scalar) is one `changed` entry.
 */
export function diffJson(before: unknown, after: unknown, path = ''): DiffEntry[] {
  const out: DiffEntry[] = [];
  walk(before, after, path, out);
  return out;
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function walk(a: unknown, b: unknown, path: string, out: DiffEntry[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) walk(a[i], b[i], child(path, i), out);
    for (let i = n; i < b.length; i++) {
      const p = child(path, i);
      out.push({ path: p, change: 'added', after: b[i], text: `${p}: added ${short(b[i])}` });
    }
    for (let i = n; i < a.length; i++) {
      const p = child(path, i);
      out.push({ path: p, change: 'removed', before: a[i], text: `${p}: removed ${short(a[i])}` });
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      const p = child(path, k);
      if (!(k in b) || b[k] === undefined) {
        if (a[k] !== undefined) out.push({ path: p, change: 'removed', before: a[k], text: `${p}: removed ${short(a[k])}` });
      } else walk(a[k], b[k], p, out);
    }
    for (const k of Object.keys(b)) {
      if ((k in a && a[k] !== undefined) || b[k] === undefined) continue;
      const p = child(path, k);
      out.push({ path: p, change: 'added', after: b[k], text: `${p}: added ${short(b[k])}` });
    }
    return;
  }
  if (!sameJson(a, b)) out.push({ path, change: 'changed', before: a, after: b, text: `${path}: ${short(a)} -> ${short(b)}` });
}
