// An OTLP/HTTP endpoint that accepts and drops every export, in a process of its own so the
// benchmark that measures does not also pay for receiving spans. Prints its port, then serves
// GET /count (export requests received).
const http = require('node:http');

let received = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') return void res.end(JSON.stringify({ exports: received }));
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
