// Answers whether a Redis server responds at a redis:// URL, with nothing but node:net.
const net = require('node:net');

function pingRedis(url = 'redis://127.0.0.1:6379', timeoutMs = 1500) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port) || 6379 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(/^(\+PONG|-NOAUTH)/.test(d.toString())));
  });
}

module.exports = { pingRedis };

if (require.main === module) {
  pingRedis(process.argv[2]).then((ok) => process.exit(ok ? 0 : 1));
}
