/**
 * The demo's Radicle node: its control socket (`<rad home>/node/control.sock`, reference
 * radicle-node.md §1–2) answers `subscribe` with a stream of events, one JSON line each, as
 * radicle-node does; the demo writes storage first and then tells subscribers what changed with a
 * `refsFetched` event, as a node does after fetching from a peer.
 */
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';

export type RefUpdate = { updated: { name: string; old: string; new: string } } | { created: { name: string; oid: string } };

export class SimNode {
  readonly socketPath: string;
  readonly #nid: string;
  readonly #subscribers = new Set<net.Socket>();
  #server: net.Server | null = null;
  #onSubscriber: (() => void) | null = null;

  constructor(radHome: string, nid: string) {
    this.socketPath = join(radHome, 'node', 'control.sock');
    this.#nid = nid;
  }

  async start(): Promise<void> {
    mkdirSync(dirname(this.socketPath), { recursive: true });
    rmSync(this.socketPath, { force: true });
    const server = net.createServer((sock) => this.#accept(sock));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, resolve);
    });
  }

  #accept(sock: net.Socket): void {
    let buf = '';
    sock.on('error', () => {});
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      sock.off('data', onData);
      let command: unknown;
      try {
        command = (JSON.parse(buf.slice(0, nl)) as { command?: unknown }).command;
      } catch {
        command = null;
      }
      if (command === 'subscribe') {
        this.#subscribers.add(sock);
        sock.on('close', () => this.#subscribers.delete(sock));
        this.#onSubscriber?.();
      } else if (command === 'nodeId') {
        sock.end(`${JSON.stringify(this.#nid)}\n`);
      } else {
        sock.end(`${JSON.stringify({ error: `unknown command ${JSON.stringify(command)}` })}\n`);
      }
    };
    sock.on('data', onData);
  }

  /** Resolves once someone (cibq's producer) has subscribed. */
  async subscribed(): Promise<void> {
    if (this.#subscribers.size > 0) return;
    await new Promise<void>((resolve) => (this.#onSubscriber = resolve));
    this.#onSubscriber = null;
  }

  /** Tells every subscriber that `updated` refs of `rid` were fetched from `remote`. */
  refsFetched(remote: string, rid: string, updated: RefUpdate[]): void {
    const line = `${JSON.stringify({ type: 'refsFetched', remote, rid, updated })}\n`;
    for (const s of this.#subscribers) s.write(line);
  }

  async stop(): Promise<void> {
    for (const s of this.#subscribers) s.destroy();
    this.#subscribers.clear();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }
}
