/**
 * A real redis-server per test file, on a free port, in a temp dir: tests can stop and restart it.
 * Optionally TLS only (certificates from tls-certs.ts, client certificates required) and a password.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { TlsFiles } from './tls-certs.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export type Access = { host?: string; tls?: TlsFiles; password?: string };

/** Whether a Redis answers PING (after AUTH, over TLS) at host:port. */
export async function pings(port: number, access: Access = {}): Promise<boolean> {
  const host = access.host ?? '127.0.0.1';
  return new Promise<boolean>((resolve) => {
    const t = access.tls;
    const s = t
      ? tls.connect({ port, host, ca: readFileSync(t.ca), cert: readFileSync(t.clientCert), key: readFileSync(t.clientKey), servername: 'localhost' })
      : net.connect(port, host);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
    let got = '';
    s.once(t ? 'secureConnect' : 'connect', () => {
      s.write(access.password !== undefined ? `AUTH ${access.password}\r\nPING\r\n` : 'PING\r\n');
    });
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('+PONG') || got.includes('-')) {
        clearTimeout(timer);
        s.destroy();
        resolve(got.includes('+PONG'));
      }
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number, access: Access = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pings(port, access)) return;
    if (Date.now() > deadline) throw new Error(`redis did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #proc: ChildProcess | null = null;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /**
   * `netns` runs it in that network namespace, listening on every address there; `host` is the
   * address this process reaches it at (default 127.0.0.1).
   */
  static async start(opts: { appendOnly?: boolean; tls?: TlsFiles; password?: string; args?: string[]; netns?: string; host?: string } = {}): Promise<RedisServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cibq-redis-'));
    const srv = new RedisServer(opts.netns !== undefined ? 6390 : await freePort(), dir);
    srv.#appendOnly = opts.appendOnly ?? true;
    srv.#netns = opts.netns ?? null;
    srv.#access = {
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
    };
    srv.#args = opts.args ?? [];
    await srv.restart();
    return srv;
  }

  #appendOnly = true;
  #netns: string | null = null;
  #access: Access = {};
  #args: string[] = [];

  /** redis://127.0.0.1:port, or rediss://:password@127.0.0.1:port with TLS and a password. */
  get url(): string {
    const auth = this.#access.password !== undefined ? `:${encodeURIComponent(this.#access.password)}@` : '';
    return `${this.#access.tls ? 'rediss' : 'redis'}://${auth}${this.#access.host ?? '127.0.0.1'}:${this.port}`;
  }

  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  /** SIGKILL: no shutdown save, connections drop at once. Resolves once it is gone. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = null;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  /** Starts (again) on the same port and data dir: with appendonly, data survives a stop. */
  async restart(): Promise<void> {
    if (this.#proc) return;
    const t = this.#access.tls;
    const listen = t
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', t.serverCert, '--tls-key-file', t.serverKey,
          '--tls-ca-cert-file', t.ca, '--tls-auth-clients', 'yes']
      : ['--port', String(this.port)];
    const args = [...listen, '--bind', this.#netns !== null ? '0.0.0.0' : '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', this.#appendOnly ? 'yes' : 'no', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction',
      ...(this.#access.password !== undefined ? ['--requirepass', this.#access.password] : []), ...this.#args];
    const proc = this.#netns !== null
      ? spawn('ip', ['netns', 'exec', this.#netns, 'redis-server', ...args], { stdio: 'ignore' })
      : spawn('redis-server', args, { stdio: 'ignore' });
    this.#proc = proc;
    proc.once('exit', () => {
      if (this.#proc === proc) this.#proc = null;
    });
    await waitForPort(this.port, 10_000, this.#access);
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = null;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
