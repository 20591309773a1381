import { createServer } from 'node:http';
import { route } from './routes.js';

const port = Number(process.env.PORT ?? 3000);

const server = createServer((req, res) => {
  const reply = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost'));
  res.writeHead(reply.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(reply.body) + '\n');
});

server.listen(port, () => console.log(`node-api listening on :${port}`));

// PID 1 in a container gets no default signal handlers: stop cleanly on `docker stop`.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
