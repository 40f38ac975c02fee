// The shape of the tree (docs/architecture.md): which folder of src/ may import which, no cycle between
// folders, no source file above the size a reader can hold. Read from the sources, so a new upward
// arrow fails here before it lands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Folder → the folders it may import (besides itself). The order is the data flow, bottom first. */
const ALLOWED: Record<string, readonly string[]> = {
  util: [],
  model: ['util'],
  protocol: ['model', 'util'],
  store: ['model', 'util'],
  synth: ['model', 'protocol', 'util'],
  access: ['model', 'protocol', 'store', 'util'],
  replay: ['model', 'protocol', 'store', 'util'],
  query: ['model', 'protocol', 'store', 'replay', 'util'],
  report: ['model', 'protocol', 'replay', 'query', 'util'],
  server: ['model', 'protocol', 'store', 'replay', 'query', 'report', 'util'],
  cli: ['model', 'protocol', 'store', 'synth', 'access', 'replay', 'query', 'report', 'server', 'util'],
};

const MAX_LINES = 600;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(c|m)?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function imports(text: string): string[] {
  const out: string[] = [];
  const re = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[1]!);
  return out;
}

const files = sources('src');

test('architecture: every folder of src/ is in the table of docs/architecture.md', () => {
  const folders = new Set(files.map((f) => relative('src', f).split('/')[0]!).filter((f) => !f.includes('.')));
  for (const f of folders) assert.ok(f in ALLOWED, `src/${f} is not in the architecture table`);
  const doc = readFileSync('docs/architecture.md', 'utf8');
  for (const f of Object.keys(ALLOWED)) assert.match(doc, new RegExp(`\\bsrc/${f}/`), `docs/architecture.md says nothing of src/${f}/`);
});

test('architecture: imports between folders follow the one-way table', () => {
  const bad: string[] = [];
  for (const file of files) {
    const from = relative('src', file).split('/')[0]!;
    for (const spec of imports(readFileSync(file, 'utf8'))) {
      const target = relative('src', resolve(dirname(file), spec));
      assert.ok(!target.startsWith('..'), `${file} imports ${spec}, outside src/`);
      const to = target.split('/')[0]!;
      if (to === from) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) bad.push(`${file} imports ${spec} (${from} → ${to})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('architecture: the table itself has no cycle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 'done') return;
    assert.notEqual(state.get(n), 'open', `cycle: ${[...path, n].join(' → ')}`);
    state.set(n, 'open');
    for (const m of ALLOWED[n] ?? []) visit(m, [...path, n]);
    state.set(n, 'done');
  };
  for (const n of Object.keys(ALLOWED)) visit(n, []);
});

test(`architecture: no source file over ${MAX_LINES} lines`, () => {
  const long = files
    .map((f) => ({ f, n: readFileSync(f, 'utf8').split('\n').length }))
    .filter((x) => x.n > MAX_LINES)
    .map((x) => `${x.f}: ${x.n} lines`);
  assert.deepEqual(long, []);
});
