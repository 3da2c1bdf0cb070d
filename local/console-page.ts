/**
 * The local console: one static page that polls /api/state each second and shows the deployments with
 * their current state and steps, the embedded tracker's tasks with their comments, and the mail outbox.
 */
export const renderConsole = (): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>devops-agent console</title>
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
button{cursor:pointer}.wide{grid-column:1 / span 2}
</style></head><body>
<header><h1>devops-agent · local console</h1></header>
<main>
<section class="wide"><h2>Deployments</h2><table id="deployments"><thead><tr><th>Deployment</th><th>Task</th><th>Status</th><th>State</th><th>Steps</th><th>Documents</th></tr></thead><tbody></tbody></table></section>
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
  document.querySelector('#tasks').innerHTML = state.tasks.map((t) =>
    '<h3>' + esc(t.name) + ' <small>(' + esc(t.id) + ') · <span class="status">' + esc(t.status) + '</span></small> <button onclick="move(\\'' + esc(t.id) + '\\', \\'Ready to Deploy\\')">Move to Ready to Deploy</button></h3>' +
    t.comments.map((c) => '<div class="comment">' + link(c.text) + '</div>').join('')).join('');
  document.querySelector('#outbox').innerHTML = state.outbox.map((m) =>
    '<div class="mail"><strong>To:</strong> ' + esc((m.to || []).join(', ')) + '<br><strong>Subject:</strong> ' + esc(m.subject) + '<br>' + link(m.text) + '</div>').join('') || '<p>No mail yet.</p>';
}
refresh(); setInterval(refresh, 1000);
</script>
</body></html>`;
