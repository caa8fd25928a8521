// The ceiling for bench:chat: a Socket.IO server that does nothing but emit. On `message.send`
// it answers with the same events Troupe sends (ack, reply.start, N reply.token, reply.done,
// turn.end), each token as one event, paced like the benchmark model. Prints its port.
const { createServer } = require('node:http');
const { Server } = require('socket.io');

const tokens = Number(process.env.TOKENS || 128);
const paceMs = Number(process.env.PACE_MS || 0);
const http = createServer();
const io = new Server(http, { maxHttpBufferSize: 1e6 });

io.on('connection', (socket) => {
  let seq = 0;
  socket.on('message.send', ({ sessionId }, ack) => {
    const turnId = `t${Math.random().toString(36).slice(2)}`;
    ack?.({ ok: true, turnId });
    socket.emit('reply.start', { sessionId, turnId, roleId: 'bare', roleName: 'Bare', seq: ++seq });
    let index = 0;
    const step = () => {
      if (index < tokens) {
        socket.emit('reply.token', { sessionId, turnId, roleId: 'bare', index: index++, text: 'word ', seq: ++seq });
        return paceMs > 0 ? setTimeout(step, paceMs) : index % 16 === 0 ? setImmediate(step) : step();
      }
      socket.emit('reply.done', { sessionId, turnId, roleId: 'bare', roleName: 'Bare', text: '', usage: { promptTokens: 1, completionTokens: tokens }, finishReason: 'length', seq: ++seq });
      socket.emit('turn.end', { sessionId, turnId, reason: 'completed', detail: '', replies: 1, usage: { promptTokens: 1, completionTokens: tokens }, seq: ++seq });
    };
    step();
  });
});

http.listen(0, '127.0.0.1', () => process.stdout.write(`${http.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
