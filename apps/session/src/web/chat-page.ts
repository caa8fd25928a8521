/** The demo chat page: pick roles, open a session, watch replies stream in token by token. */
export const CHAT_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Troupe chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; max-width: 760px; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; padding: .75rem; height: 55vh; overflow-y: auto; background: #fafafa; }
  .msg { margin: .4rem 0; white-space: pre-wrap; }
  .who { font-weight: 600; margin-right: .4rem; }
  .user .who { color: #0b5cad; }
  .role .who { color: #8a3ab9; }
  .meta { color: #777; font-size: .8rem; margin-left: .4rem; }
  .error { color: #b00020; }
  form { display: flex; gap: .5rem; margin-top: .75rem; }
  input[type=text] { flex: 1; padding: .5rem; }
  #roles label { margin-right: .8rem; }
</style>
</head>
<body>
<h1>Troupe chat</h1>
<div id="roles">Loading roles…</div>
<p><button id="open">Open session</button> <span id="status"></span></p>
<div id="log" aria-live="polite"></div>
<form id="send"><input id="text" type="text" placeholder="Say something" autocomplete="off" disabled>
<button id="sendButton" disabled>Send</button><button type="button" id="cancel" disabled>Stop</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io({ auth: { name: 'web' } });
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  let sessionId = null;
  const live = new Map();
  function line(cls, who, text) {
    const div = document.createElement('div');
    div.className = 'msg ' + cls;
    const w = document.createElement('span'); w.className = 'who'; w.textContent = who;
    const t = document.createElement('span'); t.className = 'text'; t.textContent = text;
    const m = document.createElement('span'); m.className = 'meta';
    div.append(w, t, m); log.append(div); log.scrollTop = log.scrollHeight;
    return div;
  }
  fetch('/api/roles').then(r => r.json()).then(({ roles }) => {
    const box = document.getElementById('roles');
    box.textContent = '';
    roles.forEach((role, i) => {
      const label = document.createElement('label');
      label.innerHTML = '<input type="checkbox" value="' + role.id + '"' + (i === 0 ? ' checked' : '') + '> ';
      label.append(role.name);
      label.title = role.description;
      box.append(label);
    });
  }).catch(e => { document.getElementById('roles').textContent = 'Could not load roles: ' + e; });
  document.getElementById('open').onclick = () => {
    const roles = [...document.querySelectorAll('#roles input:checked')].map(i => i.value);
    socket.emit('session.open', { roles }, (ack) => {
      if (!ack.ok) { status.textContent = ack.error.message; return; }
      sessionId = ack.sessionId;
      status.textContent = 'Session ' + sessionId + ' with ' + ack.roles.map(r => r.name).join(', ');
      for (const id of ['text', 'sendButton', 'cancel']) document.getElementById(id).disabled = false;
    });
  };
  document.getElementById('send').onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById('text');
    if (!input.value.trim()) return;
    socket.emit('message.send', { sessionId, text: input.value }, (ack) => { if (!ack.ok) line('error', 'error', ack.error.message); });
    input.value = '';
  };
  document.getElementById('cancel').onclick = () => socket.emit('reply.cancel', { sessionId }, () => {});
  socket.on('message.user', (m) => line('user', m.author, m.text));
  socket.on('reply.start', (m) => live.set(m.turnId + m.roleId, line('role', m.roleName, '')));
  socket.on('reply.token', (m) => { const d = live.get(m.turnId + m.roleId); if (d) d.querySelector('.text').textContent += m.text; log.scrollTop = log.scrollHeight; });
  socket.on('reply.done', (m) => {
    const d = live.get(m.turnId + m.roleId);
    if (d) d.querySelector('.meta').textContent = '(' + m.finishReason + ', ' + m.usage.promptTokens + ' prompt + ' + m.usage.completionTokens + ' completion tokens)';
    live.delete(m.turnId + m.roleId);
  });
  socket.on('chat.error', (e) => line('error', 'error', e.code + ': ' + e.message));
</script>
</body>
</html>
`;
