/**
 * A TCP proxy in front of a real server (Redis), for faults no client can stage by itself: a link
 * that goes dead without a FIN (cut), and a reply held back while the test acts on what the server
 * has already done (a process killed between two calls). Each reply chunk from the server passes
 * `onReply` before it is forwarded; 'hold' keeps it, and the connection's later traffic, back.
 */
import net from 'node:net';

export type ReplyDecision = 'forward' | 'hold';

export class TcpProxy {
  readonly port: number;
  readonly #server: net.Server;
  readonly #targetPort: number;
  readonly #pairs = new Set<[net.Socket, net.Socket]>();
  #cut = false;
  onReply: ((chunk: Buffer) => ReplyDecision | Promise<ReplyDecision>) | null = null;

  private constructor(server: net.Server, port: number, targetPort: number) {
    this.#server = server;
    this.port = port;
    this.#targetPort = targetPort;
    server.on('connection', (client) => this.#accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
    return new TcpProxy(server, port, targetPort);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  #accept(client: net.Socket): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.#targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      const decide = this.onReply;
      if (decide === null) {
        client.write(d);
        return;
      }
      upstream.pause();
      void Promise.resolve(decide(d)).then((what) => {
        if (what === 'hold') return; // stays paused: neither this reply nor anything after it
        client.write(d);
        upstream.resume();
      });
    });
  }

  /** Every connection dies and new ones are refused, as when the server's host goes away. */
  cut(): void {
    this.#cut = true;
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
