"""The one style sheet of a reader's page: inline, no web fonts, readable at 360 px, 1440 px and in print.

Colours meet WCAG 2.1 AA contrast (4.5:1 for text) on their backgrounds.
"""

CSS = """
:root{--ink:#1b1b1b;--muted:#4a4a4a;--paper:#fdfcf8;--line:#cfcabc;--accent:#1f4e79;--mark:#fff1b8;
--ok:#1b5e20;--okbg:#e6f4ea;--warn:#6d4c00;--warnbg:#fff4d6;--bad:#8b0000;--badbg:#fde8e8}
*{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;background:var(--paper);color:var(--ink);font:1rem/1.55 Georgia,"Times New Roman",serif}
a{color:var(--accent)}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.85em;overflow-wrap:anywhere}
header.top,main,footer{max-width:90rem;margin:0 auto;padding:0 1rem}
header.top{padding-top:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .5rem}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
.kicker{color:var(--muted);font:600 .8rem/1.3 system-ui,sans-serif;letter-spacing:.04em;text-transform:uppercase;margin:0}
.muted{color:var(--muted)}
.banner{border:3px solid var(--bad);background:var(--badbg);color:var(--bad);padding:.75rem 1rem;margin:1rem 0;
font:700 1.05rem/1.4 system-ui,sans-serif}
.banner.valid{border-color:var(--warn);background:var(--warnbg);color:var(--warn)}
.state{display:inline-block;padding:.1rem .5rem;border-radius:.25rem;font:700 .9rem/1.4 system-ui,sans-serif}
.state.trusted{background:var(--okbg);color:var(--ok)}.state.valid{background:var(--warnbg);color:var(--warn)}
.state.invalid{background:var(--badbg);color:var(--bad)}
.layout{display:grid;grid-template-columns:minmax(0,1fr);gap:0 2.5rem}
@media (min-width:64rem){.layout{grid-template-columns:minmax(0,1fr) 24rem}.layout>section{grid-column:1}
.side{grid-column:2;grid-row:1 / span 5}}
section{min-width:0}
dl.card{display:grid;grid-template-columns:minmax(7rem,auto) minmax(0,1fr);gap:.2rem .75rem;margin:0;
font:.95rem/1.45 system-ui,sans-serif}
ul.copies{margin:0;padding-left:1.1rem}
dl.card dt{color:var(--muted);font-weight:600}dl.card dd{margin:0;overflow-wrap:anywhere}
.text{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid var(--line);padding:1rem;
font-size:1.05rem;line-height:1.7}
mark{background:var(--mark);color:inherit;padding:0 .05em}
.marker{font:700 .75rem/1 system-ui,sans-serif;color:#fff;background:var(--accent);border:0;border-radius:.6rem;
min-width:1.5rem;min-height:1.5rem;padding:.2rem .35rem;margin:0 .15rem;vertical-align:super;cursor:pointer}
.marker:focus-visible,.close:focus-visible,summary:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
[popover].note-pop{max-width:min(34rem,calc(100vw - 2rem));border:2px solid var(--accent);border-radius:.4rem;
padding:1rem;background:#fff;color:var(--ink);font:1rem/1.5 system-ui,sans-serif;box-shadow:0 .5rem 2rem rgba(0,0,0,.25)}
[popover].note-pop::backdrop{background:rgba(0,0,0,.15)}
.note-pop h3{margin-top:0}
.close{font:600 .9rem/1 system-ui,sans-serif;margin-top:.75rem;padding:.45rem .8rem;border:1px solid var(--accent);
background:#fff;color:var(--accent);border-radius:.3rem;cursor:pointer}
ol.notes,ol.timeline{padding-left:1.5rem;font:.95rem/1.5 system-ui,sans-serif}
ol.notes li,ol.timeline li{margin:.4rem 0 .8rem}
.orphaned{border-left:4px solid var(--warn);padding-left:.75rem}
.who{color:var(--muted);font-size:.9rem}
table{border-collapse:collapse;width:100%;font:.9rem/1.4 system-ui,sans-serif}
th,td{border-bottom:1px solid var(--line);padding:.35rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
del{background:var(--badbg);color:var(--bad);text-decoration:line-through}
ins{background:var(--okbg);color:var(--ok);text-decoration:underline}
.diff{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid var(--line);padding:.75rem}
.gap{color:var(--muted)}
.visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid var(--line);padding:.5rem;font-size:.8rem}
ul.checks{list-style:none;padding:0;font:.9rem/1.45 system-ui,sans-serif}
.custody{font:.95rem/1.5 system-ui,sans-serif}
footer{margin:2rem auto;color:var(--muted);font:.85rem/1.4 system-ui,sans-serif}
@media print{
body{background:#fff;font-size:11pt}
.marker{background:none;color:#000;border:0;padding:0;min-width:0;min-height:0}
[popover]{display:none!important}
.layout{display:block}
.text,.diff,pre{border:0;padding:0}
a{color:#000;text-decoration:none}
h2{break-after:avoid}
li,tr{break-inside:avoid}
details>*{display:block}
}
"""
