/**
 * The dashboard: bull-board over every run queue (`/queues`), the static reports (`/reports/`),
 * `/healthz` and Prometheus `/metrics`, in one HTTP server. Off 127.0.0.1 it requires basic auth.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { UsageError } from '../util/errors.ts';
import { connectRedis, redisKeys } from '../queue/redis.ts';
import { basicAuth, bindRefusal, type Credentials } from './auth.ts';
import { BOARD_PATH, mountBoard } from './board.ts';
import { createMetrics } from './metrics.ts';
import { REPORTS_PATH, reportFiles } from './report-files.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 3000;

export type DashboardDeps = {
  config: Config;
  log: Logger;
  version: string;
  /** Default 127.0.0.1; any other address requires `credentials`. */
  host?: string;
  /** Default 3000; 0 picks a free port (see `url`). */
  port?: number;
  /** Hide and refuse retry, remove, promote and the other actions that change queues. */
  readOnly?: boolean;
  /** Basic-auth credentials; when set, everything but /healthz requires them. */
  credentials: Credentials | null;
};

export type Dashboard = { url: string; close: () => Promise<void> };

const REDIS_PING_MS = 1000;

/** Whether Redis answers within a second (a connection still being set up gets that second too). */
async function pingRedis(redis: { ping: () => Promise<string> }): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([redis.ping(), new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), REDIS_PING_MS);
    })]);
    return answer === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The Redis connection as /healthz shows it (no auth there, so no addresses or credentials): its
 * state (ready, connecting, reconnecting, …), whether it uses TLS, and whether Sentinel finds the primary.
 */
function connectionState(redis: { status: string }, cfg: Config['redis']) {
  return { state: redis.status, tls: cfg.url.startsWith('rediss:'), sentinel: (cfg.sentinels?.length ?? 0) > 0 };
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startDashboard(deps: DashboardDeps): Promise<Dashboard> {
  const { config, log, version } = deps;
  const host = deps.host ?? DEFAULT_HOST;
  const refusal = bindRefusal(host, deps.credentials);
  if (refusal !== null) throw new UsageError(refusal);

  const redis = connectRedis(config.redis, log, 'dashboard');
  const keys = redisKeys(config.redis.prefix);
  const queues = new Map<string, Queue>();
  for (const adapter of Object.keys(config.adapters).sort()) {
    const q = new Queue(keys.runQueue(adapter), { connection: redis, prefix: keys.bullPrefix });
    q.on('error', () => {}); // the connection logs its own problems once
    queues.set(adapter, q);
  }
  const redisUp = () => pingRedis(redis);
  const metrics = createMetrics({ queues, redis, keys, dbPath: config.db, version, redisUp });

  const app = new Hono();
  app.onError((err, c) => {
    log.error({ err, path: c.req.path }, 'dashboard request failed');
    return c.text('internal error\n', 500);
  });
  if (deps.credentials !== null) app.use('*', basicAuth(deps.credentials, (p) => p === '/healthz'));
  app.get('/healthz', async (c) => {
    const up = await redisUp();
    return c.json({ ok: up, redis: up, version, connection: connectionState(redis, config.redis) }, up ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }));
  app.get('/reports', (c) => c.redirect(REPORTS_PATH, 301));
  app.get(`${REPORTS_PATH}*`, reportFiles(config.reportDir));
  app.get('/', (c) => c.redirect(BOARD_PATH, 302));
  mountBoard(app, { queues, readOnly: deps.readOnly === true, reports: config.reportDir !== null });

  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  let addr: AddressInfo;
  try {
    addr = await listen(server, deps.port ?? DEFAULT_PORT, host);
  } catch (e) {
    await Promise.all([...queues.values()].map((q) => q.close()));
    redis.disconnect();
    throw e;
  }
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log.info({ url, readOnly: deps.readOnly === true, auth: deps.credentials !== null }, 'dashboard listening');

  let closed: Promise<void> | null = null;
  return {
    url,
    close: () =>
      (closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await Promise.all([...queues.values()].map((q) => q.close()));
        redis.disconnect();
      })()),
  };
}
