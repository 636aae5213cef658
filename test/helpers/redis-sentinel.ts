/**
 * Redis with Sentinel on loopback ports, for failover tests: a primary, a replica of it, and three
 * `redis-sentinel` processes (Debian's redis-sentinel package) watching it under one name, with a
 * short down-after so a killed primary is failed over within seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './pipeline.ts';
import { freePort, RedisServer, waitForPort } from './redis-server.ts';

export const SENTINEL_NAME = 'cibq-primary';

export class SentinelSet {
  readonly primary: RedisServer;
  readonly replica: RedisServer;
  readonly sentinelPorts: number[];
  readonly #dir: string;
  readonly #sentinels: ChildProcess[];

  private constructor(primary: RedisServer, replica: RedisServer, ports: number[], dir: string, sentinels: ChildProcess[]) {
    this.primary = primary;
    this.replica = replica;
    this.sentinelPorts = ports;
    this.#dir = dir;
    this.#sentinels = sentinels;
  }

  static async start(): Promise<SentinelSet> {
    const primary = await RedisServer.start();
    const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const probe = new Redis(replica.url, { maxRetriesPerRequest: null });
    try {
      await waitFor('the replica to sync', async () => (await probe.info('replication')).includes('master_link_status:up'), 20_000);
    } finally {
      probe.disconnect();
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cibq-sentinel-'));
    const ports: number[] = [];
    const procs: ChildProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel-${i}.conf`);
      writeFileSync(conf, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
        '',
      ].join('\n'));
      procs.push(spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
      ports.push(port);
      await waitForPort(port, 10_000);
    }
    const set = new SentinelSet(primary, replica, ports, dir, procs);
    // Every sentinel knows the replica and the other sentinels before anything can fail over.
    for (const port of ports) {
      const s = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
      try {
        await waitFor(`sentinel ${port} to know the replica and its peers`, async () => {
          const replicas = (await s.call('SENTINEL', 'REPLICAS', SENTINEL_NAME)) as unknown[];
          const peers = (await s.call('SENTINEL', 'SENTINELS', SENTINEL_NAME)) as unknown[];
          return replicas.length === 1 && peers.length === 2;
        }, 30_000);
      } finally {
        s.disconnect();
      }
    }
    return set;
  }

  /** "127.0.0.1:port" of each sentinel, as redis.sentinels lists them. */
  get addresses(): string[] {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`);
  }

  /** host:port of the primary the sentinels name now. */
  async currentPrimary(): Promise<string> {
    const s = new Redis(this.sentinelPorts[0] ?? 0, '127.0.0.1', { maxRetriesPerRequest: null });
    try {
      const [host, port] = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME)) as [string, string];
      return `${host}:${port}`;
    } finally {
      s.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#sentinels.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    })));
    await this.primary.close();
    await this.replica.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
