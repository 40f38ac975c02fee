// The HTML report page's program: lays the timeline out for the window, zooms and pans it, and
// opens a block's details from `#block=<id>` (or a click). Compiled on its own against the DOM
// (./tsconfig.json) to a plain script that html.ts inlines into every page, so nothing outside
// the function below is emitted: keep comments inside it few, they travel into every report.
import type { PageData } from '../page-data.js';
/** The page's elements this program uses, by id (html.ts writes them). */
interface PageElements {
  'report-data': HTMLScriptElement;
  timeline: SVGSVGElement;
  axis: SVGGElement;
  'view-readout': HTMLSpanElement;
  'range-from': HTMLInputElement;
  'range-to': HTMLInputElement;
  'range-apply': HTMLButtonElement;
  'zoom-in': HTMLButtonElement;
  'zoom-out': HTMLButtonElement;
  'zoom-reset': HTMLButtonElement;
  details: HTMLElement;
  'details-body': HTMLDivElement;
  'details-close': HTMLButtonElement;
}

declare global {
  interface Document {
    getElementById<K extends keyof PageElements>(elementId: K): PageElements[K] | null;
  }
}

/** What `fail` reads of a thrown value or an error event's payload. */
interface Failure {
  stack?: string;
  message?: string;
}

interface Drag {
  x: number;
  va: number;
  vb: number;
  moved: boolean;
}

/** A value the details panel shows in one row: text, or an element (a link, a badge, a list). */
type RowValue = Node | string | number | bigint | null;

(function clientMain(): void {
  const w = globalThis;
  const doc = w.document;
  const body = doc.body;
  const fail = (e: unknown): void => {
    body.dataset.error = String((e && ((e as Failure).stack || (e as Failure).message)) || e);
  };
  w.addEventListener('error', (ev) => fail(ev.error || ev.message));
  try {
    const data: PageData = JSON.parse(doc.getElementById('report-data')!.textContent!);
    const svg = doc.getElementById('timeline')!;
    const NS = 'http://www.w3.org/2000/svg';
    const G = data.geometry;
    const n: number = data.span + 1;
    const low = BigInt(data.low);
    const lowN = Number(data.low);
    const minRange = Math.min(n, 2);
    let va = 0;
    let vb = n;
    let width = 0;
    let plotW = 0;
    const runs = Array.from(svg.querySelectorAll<SVGRectElement>('[data-kind="run"]'));
    const labels = Array.from(svg.querySelectorAll<SVGTextElement>('[data-kind="label"]'));
    const marks = Array.from(svg.querySelectorAll<SVGRectElement>('[data-kind="mark"]'));
    const points = Array.from(svg.querySelectorAll<SVGGElement>('[data-kind="point"]'));
    const links = Array.from(svg.querySelectorAll<SVGLineElement>('[data-kind="link"]'));
    const clips = Array.from(svg.querySelectorAll<SVGRectElement>('.clip-rect'));
    const gutterLabels = Array.from(svg.querySelectorAll<SVGTextElement>('.gutter-label'));
    const axis = doc.getElementById('axis')!;
    const totalH = Number(axis.getAttribute('data-total-height'));
    const num = (el: Element, k: string): number => Number(el.getAttribute(k));
    const xOf = (o: number): number => G.labelWidth + ((o - va) / (vb - va)) * plotW;
    const clampX = (x: number): number => Math.max(-1e6, Math.min(1e6, x));
    const r1 = (x: number): string => String(Math.round(x * 10) / 10);
    const heightText = (o: number): string => (low + BigInt(Math.max(0, Math.min(n - 1, Math.floor(o))))).toString();

    const tickStep = (range: number, want: number): number => {
      const raw = Math.max(1, range / want);
      const p = 10 ** Math.floor(Math.log10(raw));
      for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
      return 10 * p;
    };

    const layout = (): void => {
      width = Math.max(600, Math.floor(svg.getBoundingClientRect().width || 1400));
      plotW = width - G.labelWidth - G.rightPad - G.gutter;
      svg.setAttribute('width', String(width));
      for (const c of clips) c.setAttribute('width', r1(plotW));
      for (const g of gutterLabels) g.setAttribute('x', r1(G.labelWidth + plotW + 4));
      for (const el of runs) {
        const x0 = clampX(xOf(num(el, 'data-a')));
        const x1 = clampX(xOf(num(el, 'data-b') + 1));
        el.setAttribute('x', r1(x0));
        el.setAttribute('width', r1(Math.max(1, x1 - x0)));
      }
      for (const el of labels) {
        const x0 = Math.max(G.labelWidth, xOf(num(el, 'data-a')));
        const x1 = Math.min(G.labelWidth + plotW, xOf(num(el, 'data-b') + 1));
        const full = el.getAttribute('data-full');
        const short = el.getAttribute('data-short');
        const fits = (t: string | null): boolean => t !== null && x1 - x0 >= t.length * 6.6 + 8;
        const text = fits(full) ? full : fits(short) ? short : null;
        el.style.display = text === null ? 'none' : '';
        if (text !== null) {
          if (el.textContent !== text) el.textContent = text;
          el.setAttribute('x', r1((x0 + x1) / 2));
        }
      }
      for (const el of marks) {
        const a = el.getAttribute('data-a');
        const col = num(el, 'data-col');
        const x = a === 'gutter' ? G.labelWidth + plotW + 8 + col * G.cell : clampX(xOf(Number(a) + 0.5) - 4.5 + col * G.cell);
        el.setAttribute('x', r1(x));
      }
      for (const el of links) {
        el.setAttribute('x1', r1(clampX(xOf(num(el, 'data-pa') + 0.5) + num(el, 'data-pcol') * G.cell)));
        el.setAttribute('x2', r1(clampX(xOf(num(el, 'data-a') + 0.5) + num(el, 'data-col') * G.cell)));
      }
      for (const el of points) el.setAttribute('transform', `translate(${r1(clampX(xOf(num(el, 'data-a') + 0.5)))},0)`);
      while (axis.firstChild) axis.removeChild(axis.firstChild);
      const step = tickStep(vb - va, Math.max(3, Math.floor(plotW / 110)));
      const startO = Math.max(0, Math.floor(va));
      const first = Math.ceil((lowN + startO) / step) * step - lowN;
      for (let o = first; o < Math.min(n, vb); o += step) {
        const x = xOf(o + 0.5);
        if (x < G.labelWidth || x > G.labelWidth + plotW) continue;
        const g = doc.createElementNS(NS, 'g');
        g.setAttribute('class', 'tick');
        g.setAttribute('transform', `translate(${r1(x)},0)`);
        const line = doc.createElementNS(NS, 'line');
        line.setAttribute('y1', '24');
        line.setAttribute('y2', String(totalH));
        const t = doc.createElementNS(NS, 'text');
        t.setAttribute('y', '20');
        t.textContent = (low + BigInt(o)).toString();
        g.appendChild(line);
        g.appendChild(t);
        axis.appendChild(g);
      }
      doc.getElementById('view-readout')!.textContent =
        `heights ${heightText(va)} – ${heightText(vb - 1)} (${Math.round(vb - va).toLocaleString('en-US')} of ${n.toLocaleString('en-US')})`;
      svg.classList.toggle('dense', plotW / (vb - va) < G.denseCell);
      const from = doc.getElementById('range-from')!;
      const to = doc.getElementById('range-to')!;
      if (doc.activeElement !== from && doc.activeElement !== to) {
        from.value = heightText(va);
        to.value = heightText(vb - 1);
      }
      svg.setAttribute('data-view', `${va},${vb}`);
    };

    let pending = false;
    const schedule = (): void => {
      if (pending) return;
      pending = true;
      w.requestAnimationFrame(() => {
        pending = false;
        layout();
      });
    };
    const setView = (a: number, b: number): void => {
      const range = Math.max(minRange, Math.min(n, b - a));
      a = Math.max(0, Math.min(n - range, a));
      va = a;
      vb = a + range;
      schedule();
    };
    const zoomAt = (o: number, factor: number): void => {
      const range = Math.max(minRange, Math.min(n, (vb - va) * factor));
      const t = (o - va) / (vb - va);
      setView(o - t * range, o - t * range + range);
    };
    const offsetAtClientX = (cx: number): number => {
      const rect = svg.getBoundingClientRect();
      return va + ((cx - rect.left - G.labelWidth) / plotW) * (vb - va);
    };

    svg.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        zoomAt(offsetAtClientX(ev.clientX), Math.exp(ev.deltaY * 0.0015));
      },
      { passive: false },
    );
    let drag: Drag | null = null;
    svg.addEventListener('pointerdown', (ev) => {
      if ((ev.target as Element).closest('[data-key]')) return;
      drag = { x: ev.clientX, va, vb, moved: false };
      svg.setPointerCapture(ev.pointerId);
      svg.classList.add('dragging');
    });
    svg.addEventListener('pointermove', (ev) => {
      if (drag === null) return;
      const dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const shift = (dx / plotW) * (drag.vb - drag.va);
      setView(drag.va - shift, drag.vb - shift);
    });
    const endDrag = (): void => {
      drag = null;
      svg.classList.remove('dragging');
    };
    svg.addEventListener('pointerup', endDrag);
    svg.addEventListener('pointercancel', endDrag);
    svg.addEventListener('dblclick', () => setView(0, n));
    svg.addEventListener('click', (ev) => {
      const el = (ev.target as Element).closest('[data-key]');
      if (el) w.location.hash = 'block=' + encodeURIComponent(el.getAttribute('data-key')!);
    });
    doc.getElementById('zoom-in')!.addEventListener('click', () => zoomAt((va + vb) / 2, 0.5));
    doc.getElementById('zoom-out')!.addEventListener('click', () => zoomAt((va + vb) / 2, 2));
    doc.getElementById('zoom-reset')!.addEventListener('click', () => setView(0, n));
    doc.getElementById('range-apply')!.addEventListener('click', () => {
      const f = Number(doc.getElementById('range-from')!.value) - lowN;
      const t = Number(doc.getElementById('range-to')!.value) - lowN;
      if (Number.isFinite(f) && Number.isFinite(t) && t >= f) setView(f, t + 1);
    });
    for (const tr of Array.from(doc.querySelectorAll('tr.version-row'))) {
      tr.addEventListener('click', () => {
        const a = num(tr, 'data-a');
        const b = num(tr, 'data-b') + 1;
        const pad = Math.max(1, (b - a) * 0.05);
        setView(a - pad, b + pad);
        svg.scrollIntoView({ block: 'nearest' });
      });
    }
    w.addEventListener('resize', schedule);

    // ---- details panel ----
    const panel = doc.getElementById('details')!;
    const panelBody = doc.getElementById('details-body')!;
    const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] => {
      const e = doc.createElement(tag);
      if (text !== undefined) e.textContent = text;
      if (cls !== undefined) e.className = cls;
      return e;
    };
    const show = (v: unknown): string => (v === null || v === undefined || v === '' ? '—' : String(v));
    const closeDetails = (): void => {
      panel.hidden = true;
      panel.removeAttribute('data-key');
      for (const m of Array.from(doc.querySelectorAll('.selected'))) m.classList.remove('selected');
    };
    const resolve = (key: string): string => {
      if (data.details[key] !== undefined || key.length < 6) return key;
      const hits = Object.keys(data.details).filter((k) => k.startsWith(key.toLowerCase()));
      return hits.length === 1 ? hits[0] : key;
    };
    const openDetails = (wanted: string): void => {
      const key = resolve(wanted);
      const d = data.details[key];
      for (const m of Array.from(doc.querySelectorAll('.selected'))) m.classList.remove('selected');
      while (panelBody.firstChild) panelBody.removeChild(panelBody.firstChild);
      panel.hidden = false;
      panel.setAttribute('data-key', key);
      if (d === undefined) {
        panelBody.appendChild(
          el(
            'p',
            `No details for ${key}: only the first ${data.maxMarkers} blocks that are not ok, and the first ${data.maxMarkers} off-chain blocks, are in this page.`,
            'empty',
          ),
        );
        return;
      }
      panel.setAttribute('data-verdict', d.verdict);
      const dl = el('dl');
      const row = (k: string, v: RowValue): HTMLElement => {
        dl.appendChild(el('dt', k));
        const dd = el('dd');
        if (v !== null && typeof v === 'object') dd.appendChild(v);
        else dd.textContent = show(v);
        dl.appendChild(dd);
        return dd;
      };
      row('id', d.id).className = 'mono block-id';
      row('height', d.height);
      row('view', d.view);
      const parentLink = d.parentId !== null && data.details[d.parentId] !== undefined ? el('a', d.parentId) : null;
      if (parentLink) parentLink.href = '#block=' + d.parentId;
      row('parent', parentLink ?? d.parentId).className = 'mono';
      row('finalized', d.finalized ? (d.onChain ? 'yes (on the finalized chain)' : 'yes, but off the consistent chain') : 'no');
      const badge = el('span', d.verdict, 'verdict-badge');
      badge.style.background = data.verdictColors[d.verdict] ?? '#555';
      row('verdict', badge);
      row('failed checks', d.failed.length === 0 ? 'none' : d.failed.join(', '));
      const reasons = Object.keys(d.reasons);
      if (reasons.length > 0) {
        const ul = el('ul', undefined, 'reasons');
        for (const k of reasons) {
          const li = el('li');
          li.appendChild(el('b', k + ': '));
          const ids = d.rules[k] ?? [];
          if (ids.length > 0) li.appendChild(el('code', `[${ids.join(', ')}] `));
          li.appendChild(doc.createTextNode(d.reasons[k]));
          ul.appendChild(li);
        }
        row('reasons', ul);
      }
      row('committed state', d.committedStateId).className = 'mono';
      row('computed state', d.computedStateId).className = 'mono';
      if (d.committedStateComputed === false) row('', 'the committed state is no state the replay computed');
      if (d.stateDiff !== null) {
        if (d.stateDiff.length === 0) row('state change', "none (the computed state is the parent's)");
        else {
          const table = el('table', undefined, 'state-diff');
          for (const text of d.stateDiff) {
            const tr = el('tr');
            tr.appendChild(el('td', text));
            table.appendChild(tr);
          }
          row('state change', table);
        }
      }
      row('protocol state v', d.protocolStateVersion);
      row('execution comp.', d.executionComponentVersion);
      row('cadence comp.', d.cadenceComponentVersion);
      if (d.pendingUpgrade !== null) row('pending upgrade', d.pendingUpgrade);
      row('epoch', d.epochCounter === null ? null : `${d.epochCounter} (${show(d.epochPhase)}, final view ${show(d.epochFinalView)})`);
      if (d.onChain) row('required version', d.requiredVersion ?? 'unknown');
      panelBody.appendChild(dl);
      panelBody.appendChild(el('h3', `Service events (${d.eventsTotal})`));
      if (d.events.length === 0) panelBody.appendChild(el('p', 'none', 'empty'));
      else {
        const table = el('table', undefined, 'events');
        const head = el('tr');
        for (const h of ['type', 'outcome', 'reason']) head.appendChild(el('th', h));
        table.appendChild(head);
        for (const e of d.events) {
          const tr = el('tr', undefined, 'event-row');
          tr.appendChild(el('td', e.type));
          tr.appendChild(el('td', e.outcome));
          tr.appendChild(el('td', e.reason));
          table.appendChild(tr);
        }
        panelBody.appendChild(table);
        if (d.eventsTotal > d.events.length) panelBody.appendChild(el('p', `${d.eventsTotal - d.events.length} more not shown`, 'note'));
      }
      for (const m of Array.from(doc.querySelectorAll('[data-key]'))) {
        if (m.getAttribute('data-key') === key && m.matches('.invalid-marker,.fork-block')) m.classList.add('selected');
      }
      if (d.height !== null) {
        const o = Number(BigInt(d.height) - low);
        if (o < va || o >= vb) {
          const range = vb - va;
          setView(o - range / 2, o + range / 2);
        }
      }
    };
    // `#block=<id or unique prefix>` opens a block's details; `#range=<from>-<to>` shows those
    // heights; both can be combined with `&`.
    const onHash = (): void => {
      const params: Record<string, string> = {};
      for (const part of String(w.location.hash || '')
        .replace(/^#/, '')
        .split('&')) {
        const i = part.indexOf('=');
        if (i > 0) params[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1));
      }
      const range = /^(\d+)-(\d+)$/.exec(params.range ?? '');
      if (range) {
        const f = Number(range[1]) - lowN;
        const t = Number(range[2]) - lowN;
        if (t >= f) setView(f, t + 1);
      }
      if (params.block !== undefined) openDetails(params.block);
      else closeDetails();
    };
    doc.getElementById('details-close')!.addEventListener('click', () => {
      try {
        if (w.location.hash) w.history.replaceState(null, '', w.location.pathname + w.location.search);
      } catch {
        w.location.hash = '';
      }
      closeDetails();
    });
    w.addEventListener('hashchange', onHash);
    w.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !panel.hidden) doc.getElementById('details-close')!.click();
    });

    layout();
    onHash();
    layout();
    body.dataset.ready = '1';
  } catch (e) {
    fail(e);
  }
})();
