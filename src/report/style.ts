// The HTML report's stylesheet, inlined into the page by html.ts.
export const CSS = `
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 "DejaVu Sans",Verdana,Arial,sans-serif;color:#1d1d1f;background:#f6f7f9}
code,.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
a{color:#0b57d0}
header#summary{background:#fff;border-bottom:1px solid #dde1e6;padding:12px 20px 10px}
.title-row{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap}
h1{font-size:19px;margin:0}
h2{font-size:15px;margin:0 0 8px}
h3{font-size:13px;margin:12px 0 6px}
.headline{font-weight:bold;padding:2px 10px;border-radius:10px}
.headline.good{background:#e3f4e5;color:#1b5e20}.headline.bad{background:#fde3e1;color:#9b1c12}
.root-line{color:#555;margin:3px 0 8px;word-break:break-all}
dl.stats{display:flex;flex-wrap:wrap;gap:8px;margin:0}
.stat{background:#f4f6f8;border:1px solid #e3e6ea;border-radius:6px;padding:5px 10px;min-width:120px}
.stat dt{font-size:11px;color:#666;text-transform:uppercase;letter-spacing:.03em}
.stat dd{margin:0;font-weight:bold;font-size:14px}
.stat.good{border-color:#a5d6a7;background:#f0f9f1}.stat.bad{border-color:#ef9a9a;background:#fdf0ef}.stat.warn{border-color:#ffcc80;background:#fff8ec}
.verdict-text{font-weight:normal;color:#9b1c12}
.chips{margin-top:8px;display:flex;flex-wrap:wrap;gap:6px}
.chip{background:#fff;border:1px solid #dde1e6;border-radius:12px;padding:1px 9px;font-size:12px}
.chip i,.legend i.sq,.vdot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.notes{margin:8px 0 0;padding-left:18px;color:#8a5300}
main{padding:10px 20px 30px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 14px;margin-bottom:12px}
#timeline-section{position:relative}
#controls{display:flex;align-items:center;gap:6px;flex-wrap:wrap;margin-bottom:6px}
#controls button{font:inherit;padding:2px 10px;border:1px solid #b8bec6;border-radius:4px;background:#fff;cursor:pointer}
#controls button:hover{background:#eef2f7}
#controls input{font:inherit;width:120px;padding:2px 4px;border:1px solid #b8bec6;border-radius:4px}
#view-readout{color:#555;margin-left:8px}
#timeline{display:block;width:100%;user-select:none;cursor:grab;touch-action:none}
#timeline.dragging{cursor:grabbing}
.lane-bg{fill:#f4f6f9;fill-opacity:.75}
.lane-label{font-size:12px;font-weight:bold;fill:#333}
.run{stroke:#fff;stroke-width:.6}
.run.source-retroactive{stroke:#333;stroke-dasharray:3 2;stroke-width:1}
.run-label{font-size:11px;fill:#1d1d1f;text-anchor:middle;pointer-events:none}
.lane[data-lane=chain] .run-label,.lane[data-lane=forks] .run-label{display:none}
.tick line{stroke:#d5d9de;stroke-width:1}
.tick text{font-size:10px;fill:#666;text-anchor:middle}
.invalid-marker{stroke:#1d1d1f;stroke-width:.8;cursor:pointer}
.fork-block{stroke:#444;stroke-width:1;cursor:pointer}
.invalid-marker.finalized,.fork-block.finalized{stroke-width:2}
.invalid-marker:hover,.fork-block:hover{stroke:#0b57d0;stroke-width:2}
.selected{stroke:#0b57d0 !important;stroke-width:3 !important}
.extension-marker path{fill:#b30000}.extension-marker line{stroke:#b30000;stroke-width:1.5;stroke-dasharray:2 2}
.beacon-marker path{fill:#1d4ed8}
.conflict-marker line{stroke:#9b1c12;stroke-width:2}.conflict-marker path{fill:#9b1c12}
.beacon-marker,.conflict-marker,.extension-marker{cursor:default}
.fork-link{stroke:#8a8f98;stroke-width:1.2;fill:none}
#timeline.dense .fork-link{display:none}
.gutter-label{font-size:10px;fill:#777}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:11.5px;color:#444;margin-top:6px}
.legend i.sq.fallback{background:repeating-linear-gradient(45deg,#fcbba1 0 4px,#f08070 4px 7px)}
.legend i.tri{display:inline-block;width:0;height:0;border-left:5px solid transparent;border-right:5px solid transparent;border-bottom:8px solid #b30000;margin-right:5px}
.legend i.tri.down{border-bottom:0;border-top:8px solid #1d4ed8}
#details{position:fixed;top:12px;right:12px;width:440px;max-height:calc(100vh - 24px);overflow:auto;background:#fff;border:1px solid #9aa4b0;border-radius:8px;box-shadow:0 8px 28px rgba(0,0,0,.22);padding:12px 14px;z-index:10}
#details[hidden]{display:none}
#details .dhead{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px}
#details h2{margin:0}
#details-close{font:inherit;border:1px solid #b8bec6;background:#fff;border-radius:4px;cursor:pointer;padding:0 8px}
#details dl{display:grid;grid-template-columns:130px 1fr;gap:3px 10px;margin:0}
#details dt{color:#666}
#details dd{margin:0;overflow-wrap:anywhere}
#details dd.mono{word-break:break-all}
#details .verdict-badge{display:inline-block;color:#fff;border-radius:4px;padding:0 6px;font-weight:bold}
#details ul{margin:2px 0;padding-left:18px}
#details table{margin-top:4px}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eceff2;vertical-align:top}
th{background:#f4f6f8;position:sticky;top:0}
tr.version-row{cursor:pointer}tr.version-row:hover,tr.invalid-row:hover{background:#eef4ff}
.scroll{max-height:320px;overflow:auto}.scroll.short{max-height:220px}
.note{color:#8a5300;margin:4px 0}.empty{color:#666;margin:4px 0}
footer{color:#888;font-size:11px;padding:0 20px 20px}
`;
