// The HTML report (issue 6): a compact timeline model -> one self-contained HTML page (inline
// CSS, inline SVG, inline script; no network, no external fonts). The page never has one DOM
// element per block: lanes are runs of consecutive heights with equal values, and only non-ok
// blocks and off-chain blocks get individual markers (capped by the model builder).
//
// Positions: every drawn element carries `data-a` (and `data-b`), height *offsets* from the
// model's lowest height, so the page's program (browser/page.ts, compiled on its own and inlined
// by page-program.ts) can re-lay the timeline out for any zoom range. The server renders the
// full range at a nominal width, so the page is readable without script.
//
// Stable hooks (tests, tooling): `#summary[data-blocks][data-nonok][data-finalized-height]`,
// `#timeline`, `.lane[data-lane=protocol|execution|cadence|required|epoch|phase|chain|forks]`,
// `.run[data-value]`, `.invalid-marker[data-id][data-verdict][data-height]`,
// `.fork-block[data-id]`, `.extension-marker`, `.beacon-marker`, `.conflict-marker`,
// `#details[data-key]`, `#invalid-list`, `#version-map`; `body[data-ready="1"]` once the
// script ran, `body[data-error]` if it failed. URL hash `#block=<id>` opens a block's details.
import { VERDICTS, type Verdict } from '../replay/evaluate.js';
import type { ReportSummary } from '../replay/report.js';
import type { BlockDetails as PageBlockDetails, PageData } from './page-data.js';
import { pageProgram } from './page-program.js';
import { CSS } from './style.js';
import { jsonText } from '../model/json-u64.js';

export const RUN_LANES = ['protocol', 'execution', 'cadence', 'required', 'epoch', 'phase', 'chain', 'forks'] as const;
export type RunLane = (typeof RUN_LANES)[number];

/** Consecutive heights (offsets a..b, inclusive) with one value. */
export interface TimelineRun {
  a: number;
  b: number;
  /** The value the run stands for (colour key); null where the value is absent or unknown. */
  value: string | null;
  /** Short text drawn inside the run when it fits. */
  label: string;
  /** A shorter label, drawn when `label` does not fit. */
  short?: string;
  /** Tooltip. */
  title: string;
  /** Extra CSS classes (e.g. `phase-fallback`, `source-retroactive`, `bad`). */
  cls?: string;
}

/** A point event at one height (an epoch extension, a beacon, a finality conflict). */
export interface TimelinePoint {
  a: number;
  title: string;
  /** The details key of a block to open on click, if any. */
  key?: string;
}

/** One individually drawn block: a non-ok block (marker) or an ok off-chain block (fork block). */
export interface TimelineBlock {
  /** Details key: the hex id, or `record-N` for a block without a readable id. */
  key: string;
  /** Height offset; null when the block has no readable height (drawn in the right gutter). */
  a: number | null;
  height: string | null;
  /** `chain`: on the consistent finalized chain; `forks`: anywhere else. */
  lane: 'chain' | 'forks';
  /** Stack position among the individually drawn off-chain blocks of its height. */
  stack: number;
  verdict: Verdict;
  finalized: boolean;
  title: string;
  /** Where the block's parent is drawn (stack null: on the finalized chain), when it is. */
  parent?: { a: number; stack: number | null };
}

/** What the details panel shows for one block (JSON-safe: u64 values as strings). */
export type BlockDetails = PageBlockDetails<Verdict>;

export interface TimelineModel {
  title: string;
  rootHeight: string;
  rootId: string;
  /** The lowest height drawn (the root's); offsets count from here. */
  lowHeight: string;
  highHeight: string;
  /** highHeight - lowHeight (offsets run 0..span). */
  span: number;
  summary: ReportSummary;
  runs: Record<RunLane, TimelineRun[]>;
  /** Lanes whose runs were cut at the run cap. */
  truncatedLanes: RunLane[];
  extensions: TimelinePoint[];
  beacons: TimelinePoint[];
  conflicts: TimelinePoint[];
  markers: TimelineBlock[];
  forkBlocks: TimelineBlock[];
  counts: { nonOk: number; offChain: number; noHeight: number };
  /** The cap on individually drawn blocks (markers and fork blocks each). */
  maxMarkers: number;
  details: Record<string, BlockDetails>;
  notes: string[];
}

// ---- geometry (browser/page.ts repeats these few formulas) ----

const NOMINAL_WIDTH = 1400;
const LABEL_W = 190;
const RIGHT_PAD = 16;
const GUTTER_W = 56;
const AXIS_H = 30;
const LANE_H = 30;
const LANE_GAP = 6;
const CELL = 11;
const MAX_ROWS = 8;
/** Below this many pixels per height, fork connectors are hidden (they would only be noise). */
const DENSE_CELL = 3;

const LANE_TITLES: Record<RunLane, string> = {
  protocol: 'Protocol state version',
  execution: 'Execution component',
  cadence: 'Cadence component',
  required: 'Required version R(h)',
  epoch: 'Epoch',
  phase: 'Epoch phase',
  chain: 'Finalized chain',
  forks: 'Forks / not finalized',
};

export const VERDICT_COLORS: Record<Verdict, string> = {
  'decode-error': '#67000d',
  'id-mismatch': '#a50f15',
  'payload-mismatch': '#d7301f',
  'unknown-parent': '#807dba',
  'bad-linkage': '#ec7014',
  'descends-from-invalid': '#fdae6b',
  'bad-seal': '#e7298a',
  'unsupported-version': '#54278f',
  'state-mismatch': '#cb181d',
  ok: '#41ab5d',
};

const PALETTE = ['#a6cee3', '#b2df8a', '#fdbf6f', '#cab2d6', '#ffff99', '#8dd3c7', '#bebada', '#80b1d3', '#fccde5', '#ccebc5', '#fb9a99', '#d9d9d9'];
const PHASE_COLORS: Record<string, string> = { staking: '#c6dbef', setup: '#fdd0a2', committed: '#c7e9c0', fallback: 'url(#hatch-fallback)' };
const NULL_COLOR = 'url(#hatch-null)';

// ---- escaping ----

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON for a `<script type="application/json">` block: 64-bit integers by the one rule (exact digits), `<` escaped. */
export function embedJson(v: unknown): string {
  return jsonText(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fmt(v: unknown): string {
  return v === null || v === undefined ? '—' : String(v);
}

// ---- rendering ----

interface Layout {
  width: number;
  plotW: number;
  /** Number of height cells (span + 1). */
  n: number;
}

function xOf(l: Layout, o: number): number {
  return LABEL_W + (o / l.n) * l.plotW;
}

function round(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

function labelFits(label: string, width: number): boolean {
  return label.length * 6.6 + 8 <= width;
}

function colorMap(runs: readonly TimelineRun[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of runs) if (r.value !== null && !m.has(r.value)) m.set(r.value, PALETTE[m.size % PALETTE.length]!);
  return m;
}

function runFill(lane: RunLane, r: TimelineRun, colors: Map<string, string>): string {
  if (lane === 'phase') return r.value === null ? NULL_COLOR : (PHASE_COLORS[r.value] ?? NULL_COLOR);
  if (lane === 'chain') return r.value === 'ok' ? '#74c476' : r.value === null ? NULL_COLOR : '#ef3b2c';
  if (lane === 'forks') return '#fde0c5';
  return r.value === null ? NULL_COLOR : colors.get(r.value)!;
}

function renderRuns(lane: RunLane, runs: readonly TimelineRun[], l: Layout, h: number): string {
  const colors = colorMap(runs);
  const out: string[] = [];
  const labels: string[] = [];
  for (const r of runs) {
    const x0 = xOf(l, r.a);
    const x1 = xOf(l, r.b + 1);
    const w = Math.max(1, x1 - x0);
    const cls = `run${r.value === null ? ' null-value' : ''}${r.cls ? ' ' + r.cls : ''}`;
    const value = r.value === null ? '' : ` data-value="${esc(r.value)}"`;
    out.push(
      `<rect class="${cls}" data-kind="run" data-a="${r.a}" data-b="${r.b}"${value} x="${round(x0)}" y="3" width="${round(w)}" height="${h - 6}" fill="${esc(runFill(lane, r, colors))}"><title>${esc(r.title)}</title></rect>`,
    );
    if (r.label !== '') {
      const text = labelFits(r.label, w) ? r.label : r.short !== undefined && labelFits(r.short, w) ? r.short : null;
      const short = r.short === undefined ? '' : ` data-short="${esc(r.short)}"`;
      labels.push(
        `<text class="run-label" data-kind="label" data-a="${r.a}" data-b="${r.b}" data-full="${esc(r.label)}"${short} x="${round(x0 + w / 2)}" y="${h / 2 + 4}"${text === null ? ' style="display:none"' : ''}>${esc(text ?? r.label)}</text>`,
      );
    }
  }
  return out.join('') + labels.join('');
}

function markerX(l: Layout, b: TimelineBlock, col: number): number {
  return b.a === null ? LABEL_W + l.plotW + 8 + col * CELL : xOf(l, b.a + 0.5) - 4.5 + col * CELL;
}

function renderBlock(l: Layout, b: TimelineBlock, yBase: number, isMarker: boolean): string {
  const col = Math.floor(b.stack / MAX_ROWS);
  const row = b.stack % MAX_ROWS;
  const y = yBase + row * CELL;
  const cls = isMarker ? `invalid-marker verdict-${b.verdict}` : 'fork-block';
  const fin = b.finalized ? ' finalized' : '';
  const fill = isMarker ? VERDICT_COLORS[b.verdict] : '#ffffff';
  const a = b.a === null ? 'gutter' : String(b.a);
  return (
    `<rect class="${cls}${fin}" data-kind="mark" data-a="${a}" data-col="${col}" data-id="${esc(b.key)}" data-key="${esc(b.key)}" data-verdict="${b.verdict}"` +
    ` data-height="${b.height === null ? '' : esc(b.height)}" x="${round(markerX(l, b, col))}" y="${y}" width="9" height="9" rx="${isMarker ? 1.5 : 4.5}" fill="${fill}"><title>${esc(b.title)}</title></rect>`
  );
}

/** A connector from an off-chain block to its parent (in the forks lane's coordinates). */
function renderLink(l: Layout, b: TimelineBlock): string {
  if (b.a === null || b.parent === undefined) return '';
  const col = Math.floor(b.stack / MAX_ROWS);
  const y2 = 6 + (b.stack % MAX_ROWS) * CELL + 4.5;
  const p = b.parent;
  const pcol = p.stack === null ? 0 : Math.floor(p.stack / MAX_ROWS);
  const y1 = p.stack === null ? -(LANE_GAP + LANE_H / 2) : 6 + (p.stack % MAX_ROWS) * CELL + 4.5;
  const x1 = xOf(l, p.a + 0.5) + pcol * CELL;
  const x2 = xOf(l, b.a + 0.5) + col * CELL;
  return `<line class="fork-link" data-kind="link" data-a="${b.a}" data-col="${col}" data-pa="${p.a}" data-pcol="${pcol}" x1="${round(x1)}" y1="${y1}" x2="${round(x2)}" y2="${y2}"/>`;
}

function renderPoints(l: Layout, points: readonly TimelinePoint[], cls: string, shape: string): string {
  return points
    .map((p) => {
      const key = p.key === undefined ? '' : ` data-key="${esc(p.key)}"`;
      return `<g class="${cls}" data-kind="point" data-a="${p.a}"${key} transform="translate(${round(xOf(l, p.a + 0.5))},0)">${shape}<title>${esc(p.title)}</title></g>`;
    })
    .join('');
}

/** Tick step (in heights) giving about `want` ticks over `range` heights: 1, 2 or 5 times a power of ten. */
function tickStep(range: number, want: number): number {
  const raw = Math.max(1, range / want);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function renderAxis(l: Layout, low: bigint, totalH: number): string {
  const step = tickStep(l.n, 10);
  const lowN = Number(low);
  const first = Math.ceil(lowN / step) * step - lowN;
  const out: string[] = [];
  for (let o = first; o < l.n; o += step) {
    const x = xOf(l, o + 0.5);
    out.push(
      `<g class="tick" transform="translate(${round(x)},0)"><line y1="${AXIS_H - 6}" y2="${totalH}"/><text y="${AXIS_H - 10}">${(low + BigInt(o)).toString()}</text></g>`,
    );
  }
  return out.join('');
}

function laneHeight(lane: RunLane, forkRows: number): number {
  if (lane === 'forks') return Math.max(LANE_H, 10 + forkRows * CELL);
  return LANE_H;
}

function renderTimeline(m: TimelineModel): { svg: string; height: number } {
  const l: Layout = { width: NOMINAL_WIDTH, plotW: NOMINAL_WIDTH - LABEL_W - RIGHT_PAD - GUTTER_W, n: m.span + 1 };
  const offChain = [...m.markers.filter((b) => b.lane === 'forks'), ...m.forkBlocks];
  const maxStack = offChain.reduce((x, b) => Math.max(x, b.stack + 1), 1);
  const forkRows = Math.min(MAX_ROWS, maxStack);
  let y = AXIS_H;
  const lanes: string[] = [];
  for (const lane of RUN_LANES) {
    const h = laneHeight(lane, forkRows);
    const parts: string[] = [];
    parts.push(`<rect class="lane-bg" x="0" y="0" width="100%" height="${h}"/>`);
    parts.push(`<text class="lane-label" x="10" y="${lane === 'forks' ? 18 : h / 2 + 4}">${esc(LANE_TITLES[lane])}</text>`);
    const inner: string[] = [renderRuns(lane, m.runs[lane], l, h)];
    if (lane === 'required') inner.push(renderPoints(l, m.beacons, 'beacon-marker', '<path d="M0,1 L-5,-7 L5,-7 Z" transform="translate(0,8)"/>'));
    if (lane === 'epoch')
      inner.push(renderPoints(l, m.extensions, 'extension-marker', `<path d="M0,${h - 2} L-5,${h + 5} L5,${h + 5} Z"/><line y1="2" y2="${h - 2}"/>`));
    if (lane === 'chain') {
      inner.push(renderPoints(l, m.conflicts, 'conflict-marker', `<line y1="0" y2="${h}"/><path d="M-5,0 L5,0 L0,7 Z"/>`));
      for (const b of m.markers) if (b.lane === 'chain') inner.push(renderBlock(l, b, (h - 9) / 2, true));
    }
    let gutter = '';
    if (lane === 'forks') {
      for (const b of m.forkBlocks) inner.push(renderLink(l, b));
      for (const b of m.markers) if (b.lane === 'forks') inner.push(renderLink(l, b));
      for (const b of m.forkBlocks) {
        if (b.a === null) gutter += renderBlock(l, b, 6, false);
        else inner.push(renderBlock(l, b, 6, false));
      }
      for (const b of m.markers) {
        if (b.lane !== 'forks') continue;
        if (b.a === null) gutter += renderBlock(l, b, 6, true);
        else inner.push(renderBlock(l, b, 6, true));
      }
    }
    parts.push(`<g class="plot" clip-path="url(#plot-clip-${lane})">${inner.join('')}</g>`);
    if (gutter !== '')
      parts.push(`<g class="gutter"><text class="gutter-label" x="${round(LABEL_W + l.plotW + 4)}" y="${h + 12}">no height</text>${gutter}</g>`);
    const top = lane === 'forks' ? LANE_H + LANE_GAP : 10;
    const clip = `<clipPath id="plot-clip-${lane}"><rect class="clip-rect" x="${LABEL_W}" y="${-top}" width="${round(l.plotW)}" height="${h + top + 10}"/></clipPath>`;
    const truncated = m.truncatedLanes.includes(lane) ? ' data-truncated="1"' : '';
    lanes.push(
      `<g class="lane" id="lane-${lane}" data-lane="${lane}" data-runs="${m.runs[lane].length}"${truncated} transform="translate(0,${y})">${clip}${parts.join('')}</g>`,
    );
    y += h + LANE_GAP;
  }
  const totalH = y + 14;
  const defs =
    '<defs>' +
    '<pattern id="hatch-fallback" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#fcbba1"/><rect width="3.5" height="8" fill="#ef3b2c" opacity="0.55"/></pattern>' +
    '<pattern id="hatch-null" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><rect width="1.5" height="6" fill="#c8c8c8"/></pattern>' +
    '</defs>';
  const axis = `<g id="axis" data-total-height="${totalH}">${renderAxis(l, BigInt(m.lowHeight), totalH)}</g>`;
  const dense = l.plotW / l.n < DENSE_CELL ? ' class="dense"' : '';
  const svg =
    `<svg id="timeline"${dense} xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Timeline of the spork by height" width="${NOMINAL_WIDTH}" height="${totalH}" ` +
    `data-low="${esc(m.lowHeight)}" data-span="${m.span}" data-label-width="${LABEL_W}" data-right-pad="${RIGHT_PAD}" data-gutter="${GUTTER_W}">` +
    `${defs}${axis}${lanes.join('')}</svg>`;
  return { svg, height: totalH };
}

/** Chips in the order of SPEC 6's table, `ok` first. */
const CHIP_ORDER: readonly Verdict[] = ['ok', ...VERDICTS.filter((v) => v !== 'ok')];

function verdictChips(s: ReportSummary): string {
  const order = CHIP_ORDER;
  return order
    .filter((v) => (s.verdicts[v] ?? 0) > 0)
    .map(
      (v) =>
        `<span class="chip" data-verdict="${v}" data-count="${s.verdicts[v]}"><i style="background:${VERDICT_COLORS[v]}"></i>${esc(v)} <b>${count(s.verdicts[v]!)}</b></span>`,
    )
    .join('');
}

function blockLink(key: string, text: string): string {
  return `<a class="block-link" href="#block=${esc(encodeURIComponent(key))}">${esc(text)}</a>`;
}

function renderSummary(m: TimelineModel): string {
  const s = m.summary;
  const fi = s.firstInvalidFinalized;
  const stat = (id: string, k: string, v: string, cls = '') => `<div class="stat${cls ? ' ' + cls : ''}" id="stat-${id}"><dt>${esc(k)}</dt><dd>${v}</dd></div>`;
  const conflicts = s.finalityConflicts.map((c) => `${c.kind} at ${c.height}`).join(', ');
  const stats = [
    stat('blocks', 'Blocks', count(s.blocks)),
    stat('heights', 'Heights', `${esc(m.lowHeight)} … ${esc(m.highHeight)}`),
    stat('finalized', 'Finalized height', esc(String(s.finalizedHeight))),
    stat(
      'first-invalid',
      'First invalid finalized',
      fi === null ? 'none' : `${blockLink(fi.id, `height ${fi.height}`)} <span class="verdict-text">${esc(fi.verdict)}</span>`,
      fi === null ? 'good' : 'bad',
    ),
    stat(
      'conflicts',
      'Finality conflicts',
      s.finalityConflicts.length === 0 ? 'none' : `${s.finalityConflicts.length}: ${esc(conflicts)}`,
      s.finalityConflicts.length === 0 ? 'good' : 'bad',
    ),
    stat('beacons', 'Beacons indexed', count(s.beacons.length)),
    stat('beacon-issues', 'Beacon issues', s.beaconIssues.length === 0 ? 'none' : count(s.beaconIssues.length), s.beaconIssues.length === 0 ? '' : 'warn'),
    stat(
      'unknown-r',
      'R(h) unknown',
      s.unknownVersionRanges.length === 0
        ? 'nowhere'
        : s.unknownVersionRanges
            .map((r) => `${r.fromHeight}–${r.toHeight}`)
            .slice(0, 4)
            .join(', ') + (s.unknownVersionRanges.length > 4 ? ' …' : ''),
      s.unknownVersionRanges.length === 0 ? '' : 'warn',
    ),
  ];
  if (s.versionWarnings.length > 0) stats.push(stat('seal-lag', 'Seal-lag warnings', count(s.versionWarnings.length), 'warn'));
  if (s.unknownServiceEvents > 0) stats.push(stat('unknown-events', 'Unknown service events', count(s.unknownServiceEvents), 'warn'));
  const nonOk = m.counts.nonOk;
  const problems: string[] = [];
  if (nonOk > 0) problems.push(`${count(nonOk)} block${nonOk === 1 ? '' : 's'} not ok`);
  if (s.finalityConflicts.length > 0) problems.push(`finality conflict${s.finalityConflicts.length === 1 ? '' : 's'}`);
  const headline = problems.length === 0 ? '<span class="headline good">every block ok</span>' : `<span class="headline bad">${problems.join(', ')}</span>`;
  const notes = m.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  return (
    `<header id="summary" data-blocks="${s.blocks}" data-nonok="${nonOk}" data-finalized-height="${esc(String(s.finalizedHeight))}" data-first-invalid="${fi === null ? '' : esc(fi.id)}" data-conflicts="${s.finalityConflicts.length}" data-beacon-issues="${s.beaconIssues.length}">` +
    `<div class="title-row"><h1>${esc(m.title)}</h1>${headline}</div>` +
    `<div class="root-line">root height ${esc(m.rootHeight)} · root id <code>${esc(m.rootId)}</code></div>` +
    `<dl class="stats">${stats.join('')}</dl>` +
    `<div class="chips" id="verdict-counts">${verdictChips(s)}</div>` +
    (notes === '' ? '' : `<ul class="notes" id="notes">${notes}</ul>`) +
    `</header>`
  );
}

function renderLegend(): string {
  const v = (Object.keys(VERDICT_COLORS) as Verdict[])
    .filter((x) => x !== 'ok')
    .map((x) => `<span><i class="sq" style="background:${VERDICT_COLORS[x]}"></i>${esc(x)}</span>`)
    .join('');
  const p = ['staking', 'setup', 'committed'].map((x) => `<span><i class="sq" style="background:${PHASE_COLORS[x]}"></i>${x}</span>`).join('');
  return (
    `<div class="legend" id="legend">${v}<span><i class="sq" style="background:#fff;border:1px solid #555;border-radius:50%"></i>ok, off the finalized chain</span>` +
    `${p}<span><i class="sq fallback"></i>fallback (EFM)</span><span><i class="tri"></i>epoch extension</span><span><i class="tri down"></i>beacon sealed</span>` +
    `<span><i class="sq" style="background:#e6e6e6"></i>absent / unknown</span></div>`
  );
}

function renderInvalidList(m: TimelineModel): string {
  const rows = m.markers
    .map((b) => {
      const d = m.details[b.key];
      const failed = (d?.failed ?? [])
        .map((c) => `<div class="failed-check"><b>${esc(c)}</b> <code>${esc((d!.rules[c] ?? []).join(', '))}</code>: ${esc(d!.reasons[c] ?? '')}</div>`)
        .join('');
      return `<tr class="invalid-row" data-key="${esc(b.key)}"><td>${esc(b.height ?? '—')}</td><td>${esc(d?.view ?? '—')}</td><td>${blockLink(b.key, b.key.length > 20 ? b.key.slice(0, 16) + '…' : b.key)}</td><td><span class="vdot" style="background:${VERDICT_COLORS[b.verdict]}"></span>${esc(b.verdict)}</td><td class="failed-checks">${failed}</td><td>${b.finalized ? 'yes' : ''}</td></tr>`;
    })
    .join('');
  const more =
    m.counts.nonOk > m.markers.length ? `<p class="note">Showing ${count(m.markers.length)} of ${count(m.counts.nonOk)} blocks that are not ok.</p>` : '';
  const body =
    m.markers.length === 0
      ? '<p class="empty">Every block is ok.</p>'
      : `<div class="scroll"><table id="invalid-list"><thead><tr><th>height</th><th>view</th><th>id</th><th>verdict</th><th>failed checks</th><th>finalized</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  return `<section id="invalid-section"><h2>Blocks that are not ok (${count(m.counts.nonOk)})</h2>${more}${body}</section>`;
}

const VERSION_MAP_CAP = 2000;

function renderVersionMap(m: TimelineModel): string {
  const vm = m.summary.versionMap;
  const low = BigInt(m.lowHeight);
  const rows = vm
    .slice(0, VERSION_MAP_CAP)
    .map((r) => {
      const a = Number(BigInt(r.fromHeight) - low);
      const b = Number(BigInt(r.toHeight) - low);
      return `<tr class="version-row" data-a="${a}" data-b="${b}" title="click to zoom the timeline to these heights"><td>${r.fromHeight}</td><td>${r.toHeight}</td><td>${fmt(r.protocolStateVersion)}</td><td>${esc(fmt(r.executionComponentVersion))}</td><td>${esc(fmt(r.cadenceComponentVersion))}</td><td>${esc(r.requiredVersion ?? 'unknown')}</td></tr>`;
    })
    .join('');
  const more = vm.length > VERSION_MAP_CAP ? `<p class="note">Showing the first ${count(VERSION_MAP_CAP)} of ${count(vm.length)} rows.</p>` : '';
  return `<section id="version-map-section"><h2>Version map (finalized chain)</h2>${more}<div class="scroll"><table id="version-map"><thead><tr><th>from height</th><th>to height</th><th>protocol state</th><th>execution</th><th>cadence</th><th>required version</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function renderBeacons(m: TimelineModel): string {
  const s = m.summary;
  if (s.beacons.length === 0 && s.beaconIssues.length === 0 && s.versionWarnings.length === 0 && s.retroactiveRanges.length === 0) {
    return `<section id="beacons-section"><h2>Version beacons</h2><p class="empty">No version beacon was sealed on the finalized chain.</p></section>`;
  }
  const cap = 1000;
  const beacons = s.beacons
    .slice(0, cap)
    .map(
      (b) =>
        `<tr class="beacon-row"><td>${b.sealHeight}</td><td>${b.emittedAtHeight}</td><td>${b.sequence}</td><td>${esc(b.boundaries.map((x) => `${x.version}@${x.blockHeight}`).join(', '))}</td></tr>`,
    )
    .join('');
  const issues = s.beaconIssues
    .slice(0, cap)
    .map((i) => {
      const what = i.kind === 'sequence-gap' ? `expected sequence ${i.expected}, got ${i.sequence}` : `sequence ${i.sequence}: ${i.reason}`;
      return `<tr class="beacon-issue-row" data-kind="${esc(i.kind)}"><td>${i.sealHeight}</td><td>${esc(i.kind)}</td><td>${esc(what)}</td></tr>`;
    })
    .join('');
  const warn = s.versionWarnings
    .map(
      (w) =>
        `<li>heights ${w.fromHeight}–${w.toHeight}: sealed beacons require ${esc(w.sealBased)}, emitted ones ${esc(w.emissionBased)} (sealing lagged)</li>`,
    )
    .join('');
  const retro = s.retroactiveRanges.map((r) => `<li>heights ${r.fromHeight}–${r.toHeight}: ${esc(r.version)} applied retroactively</li>`).join('');
  return (
    `<section id="beacons-section"><h2>Version beacons</h2>` +
    (beacons === ''
      ? ''
      : `<div class="scroll short"><table id="beacons"><thead><tr><th>sealed at</th><th>emitted at</th><th>sequence</th><th>boundaries</th></tr></thead><tbody>${beacons}</tbody></table></div>`) +
    (issues === ''
      ? ''
      : `<h3>Issues</h3><div class="scroll short"><table id="beacon-issues"><thead><tr><th>sealed at</th><th>kind</th><th>detail</th></tr></thead><tbody>${issues}</tbody></table></div>`) +
    (warn === '' ? '' : `<h3>Seal-lag warnings</h3><ul>${warn}</ul>`) +
    (retro === '' ? '' : `<h3>Retroactive ranges</h3><ul>${retro}</ul>`) +
    `</section>`
  );
}

/** The whole page for a model. Deterministic: the same model gives the same bytes. */
export function renderHtml(m: TimelineModel): string {
  const { svg } = renderTimeline(m);
  const data: PageData<Verdict> = {
    low: BigInt(m.lowHeight),
    span: m.span,
    geometry: { labelWidth: LABEL_W, rightPad: RIGHT_PAD, gutter: GUTTER_W, cell: CELL, denseCell: DENSE_CELL },
    verdictColors: VERDICT_COLORS,
    maxMarkers: m.maxMarkers,
    details: m.details,
  };
  const controls =
    `<div id="controls"><button type="button" id="zoom-in" title="zoom in (or mouse wheel over the timeline)">+</button>` +
    `<button type="button" id="zoom-out" title="zoom out">−</button><button type="button" id="zoom-reset" title="whole spork (or double-click)">reset</button>` +
    `<label>from <input id="range-from" inputmode="numeric" value="${esc(m.lowHeight)}"></label><label>to <input id="range-to" inputmode="numeric" value="${esc(m.highHeight)}"></label>` +
    `<button type="button" id="range-apply">show</button><span id="view-readout">heights ${esc(m.lowHeight)} – ${esc(m.highHeight)}</span></div>`;
  const details = `<aside id="details" hidden aria-live="polite"><div class="dhead"><h2>Block</h2><button type="button" id="details-close" title="close">×</button></div><div id="details-body"></div></aside>`;
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(m.title)}</title><style>${CSS}</style></head>\n` +
    `<body data-ready="0">${renderSummary(m)}<main>` +
    `<section id="timeline-section"><h2>Timeline by height</h2>${controls}${svg}${renderLegend()}</section>` +
    `${details}${renderInvalidList(m)}${renderVersionMap(m)}${renderBeacons(m)}</main>` +
    `<footer>spork-replay HTML report · drag to pan, wheel to zoom, double-click to reset · click a marker for the block's details</footer>\n` +
    `<script type="application/json" id="report-data">${embedJson(data)}</script>\n` +
    `<script>${pageProgram()}</script>\n</body></html>\n`
  );
}
