// The agent's HTTP endpoint: /metrics (Prometheus text or OpenMetrics, as the Accept header asks)
// and /healthz (200 when every program runs, 503 with the failures otherwise; JSON either way).
import { createServer, type Server } from 'node:http';
import type { Agent } from './agent.js';
import { CONTENT_TYPES, negotiate, render } from './exposition.js';

export interface MetricsServer {
  server: Server;
  /** the port bound (the config's, or the kernel's choice for port 0) */
  port: number;
  close(): Promise<void>;
}

export async function serve(agent: Agent, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const format = negotiate(req.headers.accept);
      const t0 = process.hrtime.bigint();
      render(agent.families(), format)
        .then((body) => {
          res.writeHead(200, { 'content-type': CONTENT_TYPES[format] }).end(req.method === 'HEAD' ? undefined : body);
          agent.log.debug('scrape', { format, bytes: body.length, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
        })
        .catch((e: Error) => {
          agent.log.error('scrape failed', { err: e.message });
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`);
        });
      return;
    }
    if (path === '/healthz') {
      const programs = agent.states();
      const ok = programs.every((p) => p.up);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'degraded', programs }) + '\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('tsbpf agent: /metrics /healthz\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
