/**
 * The local console: one static page that polls /api/state each second and shows the deployments with
 * their current state and steps, each bake as inline SVG charts (error rate and p99 over time with the
 * thresholds, the first breaching datapoint, the rollback's start and the reason; health probes as a strip),
 * the record documents with the DORA figures of the last 30 days, the embedded tracker's tasks with their
 * comments, and the mail outbox.
 */
export const renderConsole = (): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>devops-agent console</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.8rem 1.5rem}header h1{margin:0;font-size:1.2rem}
main{display:grid;grid-template-columns:1fr 1fr;gap:1rem;padding:1rem 1.5rem}
section{background:#fff;border-radius:6px;padding:1rem;box-shadow:0 1px 2px #0002}
h2{margin-top:0;font-size:1rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #eee;vertical-align:top}
.status{font-weight:600}.deployed{color:#18794e}.rolled-back,.rollback-failed,.blocked{color:#c62828}.held{color:#b26a00}
.comment{white-space:pre-wrap;border-left:3px solid #ccd;padding:.3rem .6rem;margin:.4rem 0;font-size:.85rem;background:#fafbff}
.mail{white-space:pre-wrap;font-size:.85rem;border:1px solid #eee;padding:.5rem;margin:.4rem 0}
button{cursor:pointer}.wide{grid-column:1 / span 2}section{overflow-x:auto}
.bake{margin:0 0 1.2rem}.bake figcaption{font-size:.9rem;margin-bottom:.4rem}
.charts{display:flex;flex-wrap:wrap;gap:.6rem 1rem}.chart{flex:1 1 280px;max-width:520px;width:100%;height:auto}
.chart.health{display:block;max-width:520px;margin-top:.4rem}
.chart text{font-size:11px;fill:#4a5060}.chart .title{font-weight:600;fill:#1d2330}.axis{stroke:#9aa0ad}
.series{fill:none;stroke:#1f5fbf;stroke-width:1.8}.over{fill:#c62828}.threshold{stroke:#b26a00;stroke-width:1.5;stroke-dasharray:6 4}
.chart .threshold-label{fill:#8a5300}.breach-area{fill:#c62828;fill-opacity:.12}.breach-point{fill:#fff;stroke:#c62828;stroke-width:2.5}
.rollback{stroke:#6a1b9a;stroke-width:2}.chart .rollback-label{fill:#6a1b9a;font-weight:600}.ok{fill:#2e9d62}.failed{fill:#c62828}
.reason{margin:.4rem 0 0;font-size:.9rem;border-left:3px solid #c62828;padding:.2rem .6rem;background:#fff5f5}
@media (max-width:700px){main{grid-template-columns:1fr;padding:.6rem}.wide{grid-column:auto}}
</style></head><body>
<header><h1>devops-agent · local console</h1></header>
<main>
<section class="wide"><h2>Deployments</h2><table id="deployments"><thead><tr><th>Deployment</th><th>Task</th><th>Status</th><th>State</th><th>Steps</th><th>Documents</th></tr></thead><tbody></tbody></table></section>
<section class="wide" aria-labelledby="records-heading"><h2 id="records-heading">Deployment records</h2><div id="dora"></div><ul id="records"><li>No record yet.</li></ul></section>
<section class="wide" aria-labelledby="bakes-heading"><h2 id="bakes-heading">Bake</h2><div id="bakes"><p>No bake yet.</p></div></section>
<section><h2>Tasks (embedded tracker)</h2><div id="tasks"></div></section>
<section><h2>Outbox</h2><div id="outbox"></div></section>
</main>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const link = (text) => esc(text).replace(/(https?:\\/\\/[^\\s<]+)/g, '<a href="$1">$1</a>');
async function move(id, status) {
  await fetch('/api/tasks/' + encodeURIComponent(id) + '/status', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status }) });
  refresh();
}
async function refresh() {
  const state = await (await fetch('/api/state')).json();
  const executions = Object.fromEntries(state.executions.map((e) => [e.name, e]));
  document.querySelector('#deployments tbody').innerHTML = state.deployments.map((d) => {
    const ex = executions[d.deploymentId];
    const steps = (d.steps || []).map((s) => esc(s.name) + ': ' + esc(s.status)).join('<br>');
    const docs = [d.planKey && '<a href="/artifacts/' + esc(d.planKey) + '">plan</a>', d.recordKey && '<a href="/artifacts/' + esc(d.recordKey) + '">record</a>'].filter(Boolean).join(' · ');
    return '<tr><td>' + esc(d.deploymentId) + '</td><td>' + esc(d.taskName) + '</td><td class="status ' + esc(d.status) + '">' + esc(d.status) + '</td><td>' + esc(ex ? ex.currentState + ' (' + ex.status + ')' : d.stage) + '</td><td>' + steps + '</td><td>' + docs + '</td></tr>';
  }).join('');
  drawBakes(state.deployments);
  drawRecords(state);
  document.querySelector('#tasks').innerHTML = state.tasks.map((t) =>
    '<h3>' + esc(t.name) + ' <small>(' + esc(t.id) + ') · <span class="status">' + esc(t.status) + '</span></small> <button onclick="move(\\'' + esc(t.id) + '\\', \\'Ready to Deploy\\')">Move to Ready to Deploy</button></h3>' +
    t.comments.map((c) => '<div class="comment">' + link(c.text) + '</div>').join('')).join('');
  document.querySelector('#outbox').innerHTML = state.outbox.map((m) =>
    '<div class="mail"><strong>To:</strong> ' + esc((m.to || []).join(', ')) + '<br><strong>Subject:</strong> ' + esc(m.subject) + '<br>' + link(m.text) + '</div>').join('') || '<p>No mail yet.</p>';
}
const W = 320, PL = 58, PR = 12, PT = 22, PB = 22;
const hms = (t) => new Date(t).toISOString().slice(11, 19);
/** the time axis of a bake: its start to its end, with room after a rollback start drawn at the end */
const span = (b) => {
  const t0 = Date.parse(b.from), end = Math.max(Date.parse(b.to), t0 + 1000);
  return [t0, b.rollbackStartedAt ? Math.max(end, Date.parse(b.rollbackStartedAt)) + (end - t0) * 0.12 : end];
};
const attrs = (a) => Object.entries(a).map(([k, v]) => ' ' + k + '="' + esc(v) + '"').join('');
const el = (name, a, inner) => '<' + name + attrs(a) + (inner === undefined ? '/>' : '>' + inner + '</' + name + '>');
/** one chart of a bake: the readings of key over time, the threshold, the breach and the rollback start */
function bakeChart(d, b, key, name, fmt, limit) {
  const H = 150, [t0, t1] = span(b);
  const points = b.readings.filter((r) => typeof r[key] === 'number');
  const top = Math.max(limit * 1.3, ...points.map((r) => r[key] * 1.1)) || 1;
  const x = (t) => (PL + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (W - PL - PR)).toFixed(1);
  const y = (v) => (PT + (1 - v / top) * (H - PT - PB)).toFixed(1);
  const id = 'bake-' + d.deploymentId + '-' + key;
  const last = points[points.length - 1];
  const summary = name + ': ' + points.length + ' readings from ' + hms(t0) + ' to ' + hms(Date.parse(b.to)) + (last ? ', last ' + fmt(last[key]) : '') +
    '; threshold ' + fmt(limit) + (b.firstBreachAt ? '; first breaching datapoint at ' + hms(Date.parse(b.firstBreachAt)) : '') +
    (b.rollbackStartedAt ? '; rollback started at ' + hms(Date.parse(b.rollbackStartedAt)) : '') + '.';
  let s = el('title', { id: id + '-t' }, esc(name + ' during the bake of ' + d.deploymentId)) + el('desc', { id: id + '-d' }, esc(summary));
  s += el('text', { class: 'title', x: 4, y: 13 }, esc(name));
  s += el('line', { class: 'axis', x1: PL, y1: H - PB, x2: W - PR, y2: H - PB }) + el('line', { class: 'axis', x1: PL, y1: PT, x2: PL, y2: H - PB });
  s += el('text', { x: PL - 4, y: H - PB + 4, 'text-anchor': 'end' }, esc(fmt(0))) + el('text', { x: PL - 4, y: Number(y(top)) + 10, 'text-anchor': 'end' }, esc(fmt(top)));
  s += el('text', { x: PL, y: H - 6 }, hms(t0)) + el('text', { x: W - PR, y: H - 6, 'text-anchor': 'end' }, hms(Date.parse(b.to)) + (b.live ? ' (now)' : ''));
  if (b.firstBreachAt) {
    const from = Number(x(Date.parse(b.firstBreachAt)));
    const to = Number(x(b.rollbackStartedAt ? Date.parse(b.rollbackStartedAt) : t1));
    s += el('rect', { class: 'breach-area', x: from, y: PT, width: Math.max(2, to - from).toFixed(1), height: H - PT - PB }, el('title', {}, 'breaching from ' + hms(Date.parse(b.firstBreachAt))));
  }
  s += el('line', { class: 'threshold', x1: PL, y1: y(limit), x2: W - PR, y2: y(limit) }, el('title', {}, esc('threshold ' + fmt(limit))));
  s += el('text', { class: 'threshold-label', x: PL + 4, y: Number(y(limit)) - 4 }, esc('threshold ' + fmt(limit)));
  if (points.length) s += el('polyline', { class: 'series', points: points.map((r) => x(Date.parse(r.at)) + ',' + y(r[key])).join(' ') }, el('title', {}, esc(name)));
  for (const r of points) if (r[key] > limit) s += el('circle', { class: 'over', cx: x(Date.parse(r.at)), cy: y(r[key]), r: 2.2 }, el('title', {}, esc(hms(Date.parse(r.at)) + ': ' + fmt(r[key]))));
  if (b.firstBreachAt) {
    const first = points.find((r) => Date.parse(r.at) >= Date.parse(b.firstBreachAt) && r[key] > limit);
    if (first) s += el('circle', { class: 'breach-point', cx: x(Date.parse(first.at)), cy: y(first[key]), r: 4.5 }, el('title', {}, esc('first breaching datapoint: ' + fmt(first[key]) + ' at ' + hms(Date.parse(first.at)))));
  }
  if (b.rollbackStartedAt) {
    const rx = Number(x(Date.parse(b.rollbackStartedAt))), right = rx > W - 110;
    s += el('line', { class: 'rollback', x1: rx, y1: 4, x2: rx, y2: H - PB }, el('title', {}, 'rollback started at ' + hms(Date.parse(b.rollbackStartedAt))));
    s += el('text', { class: 'rollback-label', x: right ? rx - 4 : rx + 4, y: 13, 'text-anchor': right ? 'end' : 'start' }, 'rollback started');
  }
  return el('svg', { class: 'chart', 'data-chart': key, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': id + '-t ' + id + '-d' }, s);
}
/** the health probes as a strip: one mark per probe, red when it failed */
function healthStrip(d, b) {
  const H = 44, [t0, t1] = span(b), W2 = W;
  const x = (t) => (PL + ((t - t0) / (t1 - t0)) * (W2 - PL - PR)).toFixed(1);
  const probes = b.readings.filter((r) => typeof r.healthy === 'boolean');
  const failed = probes.filter((r) => !r.healthy).length;
  const id = 'bake-' + d.deploymentId + '-health';
  let s = el('title', { id: id + '-t' }, esc('Health probes during the bake of ' + d.deploymentId)) + el('desc', { id: id + '-d' }, probes.length + ' probes, ' + failed + ' failed.');
  s += el('text', { class: 'title', x: 4, y: 27 }, 'health');
  for (const r of probes) s += el('rect', { class: r.healthy ? 'ok' : 'failed', x: x(Date.parse(r.at)), y: 14, width: 3, height: 18 }, el('title', {}, hms(Date.parse(r.at)) + (r.healthy ? ' healthy' : ' failed')));
  if (b.rollbackStartedAt) s += el('line', { class: 'rollback', x1: x(Date.parse(b.rollbackStartedAt)), y1: 8, x2: x(Date.parse(b.rollbackStartedAt)), y2: 38 });
  return el('svg', { class: 'chart health', 'data-chart': 'health', viewBox: '0 0 ' + W2 + ' ' + H, role: 'img', 'aria-labelledby': id + '-t ' + id + '-d' }, s);
}
function renderBakes(deployments) {
  const baked = deployments.filter((d) => d.bake).reverse().slice(0, 5);
  if (!baked.length) return '<p>No bake yet.</p>';
  return baked.map((d) => {
    const b = d.bake, t = b.thresholds;
    const why = b.reason ? '<p class="reason"><strong>' + (b.rollbackStartedAt ? 'Rolled back because: ' : 'Breach: ') + '</strong>' + esc(b.reason) +
      (typeof b.reactionMs === 'number' ? ' · rollback started ' + Math.round(b.reactionMs / 1000) + ' s after the first breaching datapoint' : '') + '</p>' : '';
    return '<figure class="bake" data-deployment="' + esc(d.deploymentId) + '"><figcaption><strong>' + esc(d.deploymentId) + '</strong> · ' + esc(d.taskName) +
      ' · <span class="status ' + esc(d.status) + '">' + esc(d.status) + '</span>' + (b.live ? ' · live' : '') + '</figcaption><div class="charts">' +
      bakeChart(d, b, 'errorRate', 'Error rate', (v) => (v < 10 ? v.toFixed(1) : Math.round(v)) + ' %', t.errorRate) +
      bakeChart(d, b, 'p99Ms', 'p99 latency', (v) => Math.round(v) + ' ms', t.p99Ms) + '</div>' + healthStrip(d, b) + why + '</figure>';
  }).join('');
}
/** the DORA figures (Markdown lines: bold and list items) and the record documents, newest first */
const md = (line) => esc(line).replace(/\\*\\*(.+?)\\*\\*/g, '<strong>$1</strong>');
function renderRecords(state) {
  const lines = (state.dora && state.dora.lines) || [];
  const dora = '<p>' + md(lines[0] || '') + '</p><ul class="dora">' + lines.slice(1).filter((l) => l.startsWith('- ')).map((l) => '<li>' + md(l.slice(2)) + '</li>').join('') + '</ul>';
  const items = (state.records || []).map((r) => '<li><a href="/artifacts/' + esc(r.recordKey) + '">' + esc(r.deploymentId) + '</a> · ' + esc(r.taskName) + ' · ' + esc(r.service) + ' → ' + esc(r.environment) +
    ' · <span class="status ' + esc(r.outcome) + '">' + esc(r.outcome) + '</span>' + (r.finishedAt ? ' · ' + esc(r.finishedAt) : '') + '</li>').join('');
  return { dora, items: items || '<li>No record yet.</li>' };
}
let recordsDrawn = '';
function drawRecords(state) {
  const { dora, items } = renderRecords(state);
  if (dora + items === recordsDrawn) return;
  document.querySelector('#dora').innerHTML = dora;
  document.querySelector('#records').innerHTML = items;
  recordsDrawn = dora + items;
}
let drawn = '';
const drawBakes = (deployments) => { const html = renderBakes(deployments); if (html !== drawn) { document.querySelector('#bakes').innerHTML = html; drawn = html; } };
refresh(); setInterval(refresh, 1000);
</script>
</body></html>`;
