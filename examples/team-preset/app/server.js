/* global process */
// An Acme service: GET /health for the team's healthcheck, GET / says who it is.
import { createServer } from 'node:http';

createServer((req, res) => {
  if (req.url === '/health') return res.writeHead(200).end('ok\n');
  const body = { service: 'acme-orders', tz: process.env.TZ, env: process.env.NODE_ENV, uid: process.getuid?.() };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
}).listen(Number(process.env.PORT ?? 8080));
