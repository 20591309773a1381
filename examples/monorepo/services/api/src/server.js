import { createServer } from 'node:http';
import process from 'node:process';
import { URL } from 'node:url';
import { quote, quotes } from './quotes.js';

const port = Number(process.env.PORT ?? 8080);

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') return send(res, 200, { ok: true });
  if (url.pathname === '/quotes') return send(res, 200, { count: quotes.length });
  const m = /^\/quotes\/(\d+)$/.exec(url.pathname);
  if (m) {
    const text = quote(Number(m[1]));
    return text ? send(res, 200, { id: Number(m[1]), text }) : send(res, 404, { error: 'no such quote' });
  }
  send(res, 404, { error: `no route for ${url.pathname}`, release: process.env.RELEASE });
});

server.listen(port, () => process.stdout.write(`api ${process.env.RELEASE ?? 'dev'} listening on :${port}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
