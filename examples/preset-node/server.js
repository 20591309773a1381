/* global console, process */
// A small HTTP service with no dependencies: GET / describes the process, GET /health answers ok.
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const port = Number(process.env.PORT ?? 3000);

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (req.url !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const body = {
    service: 'preset-node',
    node: process.version,
    env: process.env.NODE_ENV ?? null,
    uid: process.getuid?.() ?? null,
    host: hostname(),
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
});

server.listen(port, () => console.log(`listening on ${port}`));

// docker stop sends SIGTERM to PID 1, which is node itself here (exec form CMD): close and exit.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
