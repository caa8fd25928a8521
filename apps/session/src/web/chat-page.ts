/**
 * The chat page: pick roles, open or rejoin a session, watch replies stream in token by token
 * with the speaker's name and tool calls, stop a reply, and survive a reload or a dropped
 * connection (it rejoins and resumes from the last sequence number it rendered).
 */
export const CHAT_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Troupe chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; max-width: 780px; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; padding: .75rem; height: 55vh; overflow-y: auto; background: #fafafa; }
  .msg { margin: .4rem 0; white-space: pre-wrap; }
  .who { font-weight: 600; margin-right: .4rem; }
  .user .who { color: #0b5cad; }
  .role .who { color: #8a3ab9; }
  .tool { color: #555; font-family: ui-monospace, monospace; font-size: .85rem; }
  .end { color: #777; font-size: .8rem; border-top: 1px dashed #ddd; }
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
<p><button id="open">Open session</button> or <input id="joinId" type="text" placeholder="session id" size="38"> <button id="join">Join</button>
<button id="leave" hidden>New session</button> <span id="status"></span></p>
<div id="log" aria-live="polite"></div>
<form id="send"><input id="text" type="text" placeholder="Say something" autocomplete="off" disabled>
<button id="sendButton" disabled>Send</button><button type="button" id="cancel" disabled>Stop</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  // A token may come in the URL (?token=...) once; it is kept for this tab only.
  const params = new URLSearchParams(location.search);
  if (params.get('token')) sessionStorage.setItem('troupe.token', params.get('token'));
  const token = sessionStorage.getItem('troupe.token') || undefined;
  const socket = io({ auth: { token, name: 'web' } });
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  let sessionId = sessionStorage.getItem('troupe.sessionId');
  let lastSeq = 0;
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
  function ready(ack) {
    sessionId = ack.sessionId;
    sessionStorage.setItem('troupe.sessionId', sessionId);
    status.textContent = 'Session ' + sessionId + ' with ' + ack.roles.map(r => r.name).join(', ');
    document.body.dataset.session = sessionId;
    for (const id of ['text', 'sendButton', 'cancel']) document.getElementById(id).disabled = false;
    document.getElementById('leave').hidden = false;
  }
  // Joining with the last rendered seq: after a reload that is 0 (the page is empty again),
  // after a dropped connection it is where the transcript stopped.
  function join() {
    socket.emit('session.join', { sessionId, lastSeq }, (ack) => {
      if (ack.ok) return ready(ack);
      status.textContent = ack.error.message;
      sessionStorage.removeItem('troupe.sessionId');
      sessionId = null;
    });
  }
  socket.on('connect', () => { if (sessionId) join(); });
  socket.on('connect_error', (e) => { status.textContent = 'Cannot connect: ' + e.message; });

  fetch('/api/roles', { headers: token ? { authorization: 'Bearer ' + token } : {} })
    .then(r => r.ok ? r.json() : Promise.reject(r.status + ' ' + r.statusText))
    .then(({ roles }) => {
      const box = document.getElementById('roles');
      box.textContent = '';
      roles.forEach((role, i) => {
        const label = document.createElement('label');
        const input = document.createElement('input');
        input.type = 'checkbox'; input.value = role.id; input.checked = i === 0;
        label.append(input, ' ' + role.name);
        label.title = role.description;
        box.append(label);
      });
    }).catch(e => { document.getElementById('roles').textContent = 'Could not load roles: ' + e; });

  document.getElementById('open').onclick = () => {
    const roles = [...document.querySelectorAll('#roles input:checked')].map(i => i.value);
    log.textContent = ''; lastSeq = 0;
    socket.emit('session.open', { roles }, (ack) => ack.ok ? ready(ack) : (status.textContent = ack.error.message));
  };
  document.getElementById('join').onclick = () => {
    const id = document.getElementById('joinId').value.trim();
    if (!id) return;
    log.textContent = ''; lastSeq = 0; sessionId = id;
    join();
  };
  document.getElementById('leave').onclick = () => {
    sessionStorage.removeItem('troupe.sessionId');
    location.reload();
  };
  document.getElementById('send').onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById('text');
    if (!input.value.trim()) return;
    socket.emit('message.send', { sessionId, text: input.value }, (ack) => { if (!ack.ok) line('error', 'error', ack.error.message); });
    input.value = '';
  };
  document.getElementById('cancel').onclick = () => socket.emit('reply.cancel', { sessionId }, () => {});

  // Every session event carries seq; render each once, in order.
  function onEvent(name, handler) {
    socket.on(name, (m) => {
      if (m.sessionId !== sessionId || m.seq <= lastSeq) return;
      lastSeq = m.seq;
      document.body.dataset.lastSeq = String(lastSeq);
      handler(m);
    });
  }
  onEvent('message.user', (m) => line('user', m.author, m.text));
  onEvent('reply.start', (m) => live.set(m.turnId + m.roleId, line('role', m.roleName, '')));
  onEvent('reply.token', (m) => {
    const d = live.get(m.turnId + m.roleId);
    if (d) d.querySelector('.text').textContent += m.text;
    log.scrollTop = log.scrollHeight;
  });
  onEvent('reply.done', (m) => {
    const d = live.get(m.turnId + m.roleId) || line('role', m.roleName, m.text);
    d.querySelector('.meta').textContent = '(' + m.finishReason + ', ' + m.usage.completionTokens + ' tokens)';
    d.dataset.done = m.finishReason;
    live.delete(m.turnId + m.roleId);
  });
  onEvent('tool.call', (m) => line('tool', '⚙ ' + m.tool, JSON.stringify(m.arguments)));
  onEvent('tool.result', (m) => line('tool', '⚙ ' + m.tool + (m.ok ? ' →' : ' ✗'), m.ok ? JSON.stringify(m.result) : m.error));
  onEvent('approval.request', (m) => {
    const d = line('tool approval', '⏸ ' + m.tool + ' needs approval', ' ' + JSON.stringify(m.arguments) + ' ');
    d.id = 'approval-' + m.callId;
    for (const [label, approved] of [['Approve', true], ['Refuse', false]]) {
      const b = document.createElement('button');
      b.textContent = label;
      b.onclick = () => socket.emit('approval.respond', { sessionId, callId: m.callId, approved }, (ack) => { if (!ack.ok) line('error', 'error', ack.error.message); });
      d.querySelector('.meta').append(b);
    }
  });
  onEvent('approval.decision', (m) => {
    const d = document.getElementById('approval-' + m.callId);
    if (d) d.querySelector('.meta').textContent = (m.approved ? 'approved' : 'refused') + ' by ' + m.by + (m.note ? ': ' + m.note : '');
  });
  onEvent('turn.end', (m) => { const d = line('end', '', m.detail); d.dataset.reason = m.reason; });
  socket.on('chat.error', (e) => line('error', 'error', e.code + ': ' + e.message));
</script>
</body>
</html>
`;
