import ms from 'ms';

export interface Reply {
  status: number;
  body: unknown;
}

const startedAt = Date.now();

/** The API: pure request → reply, so the server stays a thin adapter over node:http. */
export function route(method: string, url: URL): Reply {
  if (method !== 'GET') return { status: 405, body: { error: `method ${method} not allowed` } };
  switch (url.pathname) {
    case '/':
      return {
        status: 200,
        body: {
          service: 'node-api',
          version: process.env.APP_VERSION ?? 'dev',
          node: process.version,
          port: Number(process.env.PORT),
          uid: process.getuid?.() ?? null,
        },
      };
    case '/health':
      return { status: 200, body: { status: 'ok', uptime: ms(Date.now() - startedAt) } };
    case '/add': {
      const a = Number(url.searchParams.get('a'));
      const b = Number(url.searchParams.get('b'));
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        return { status: 400, body: { error: 'a and b must be numbers' } };
      }
      return { status: 200, body: { sum: a + b } };
    }
    default:
      return { status: 404, body: { error: `no route for ${url.pathname}` } };
  }
}
