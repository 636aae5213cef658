/**
 * Hosts on one machine: Linux network namespaces joined by veth pairs (iproute2; needs root).
 * One namespace is the hub (the Redis host); every other one gets its own link to it, and this
 * process (the test, in the root namespace) gets one too. Each link is its own /24, so cutting
 * one (`ip link set … down`) separates exactly that host, as a pulled cable would: no FIN, no
 * RST, packets just stop.
 */
import { randomInt } from 'node:crypto';
import { execa } from 'execa';

export type Link = {
  /** The hub's address on this link (what the host connects to). */
  hubIp: string;
  /** The host's own address on this link. */
  hostIp: string;
  /** The interface on the host's side. */
  dev: string;
};

async function ip(args: string[]): Promise<void> {
  await execa('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class NetHosts {
  readonly hub: string;
  readonly links = new Map<string, Link>();
  readonly #names: string[];
  readonly #tag: string;

  private constructor(tag: string, hub: string, names: string[]) {
    this.#tag = tag;
    this.hub = hub;
    this.#names = names;
  }

  /** The hub plus one namespace per name; `root` is this process's own link to the hub. Throws where namespaces cannot be made. */
  static async create(hosts: string[]): Promise<NetHosts> {
    const tag = randomInt(1000, 9999).toString();
    const net = randomInt(100, 250);
    const hub = `cq${tag}hub`;
    const names = hosts.map((h) => `cq${tag}${h}`);
    const n = new NetHosts(tag, hub, [hub, ...names]);
    try {
      await ip(['netns', 'add', hub]);
      await ip(['-n', hub, 'link', 'set', 'lo', 'up']);
      for (const [i, host] of [...hosts, 'root'].entries()) {
        const ns = host === 'root' ? null : `cq${tag}${host}`;
        if (ns !== null) {
          await ip(['netns', 'add', ns]);
          await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        }
        const hubDev = `h${tag}${i}`;
        const dev = `v${tag}${i}`;
        const subnet = `10.${net}.${i + 1}`;
        await ip(['link', 'add', hubDev, 'type', 'veth', 'peer', 'name', dev]);
        await ip(['link', 'set', hubDev, 'netns', hub]);
        if (ns !== null) await ip(['link', 'set', dev, 'netns', ns]);
        await ip(['-n', hub, 'addr', 'add', `${subnet}.1/24`, 'dev', hubDev]);
        await ip(['-n', hub, 'link', 'set', hubDev, 'up']);
        await ip([...(ns !== null ? ['-n', ns] : []), 'addr', 'add', `${subnet}.2/24`, 'dev', dev]);
        await ip([...(ns !== null ? ['-n', ns] : []), 'link', 'set', dev, 'up']);
        n.links.set(host, { hubIp: `${subnet}.1`, hostIp: `${subnet}.2`, dev });
      }
    } catch (e) {
      await n.close();
      throw e;
    }
    return n;
  }

  /** The namespace of a host (for `ip netns exec`). */
  ns(host: string): string {
    return `cq${this.#tag}${host}`;
  }

  /** The command line that runs `argv` on `host` (or, for "hub", on the hub). */
  exec(host: string, argv: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', host === 'hub' ? this.hub : this.ns(host), ...argv]];
  }

  /** Pulls (false) or plugs back (true) the host's cable. */
  async setLink(host: string, up: boolean): Promise<void> {
    const link = this.links.get(host);
    if (!link) throw new Error(`no host ${host}`);
    await ip(['-n', this.ns(host), 'link', 'set', link.dev, up ? 'up' : 'down']);
  }

  async close(): Promise<void> {
    const root = this.links.get('root');
    if (root) await ip(['link', 'del', root.dev]).catch(() => {});
    for (const ns of this.#names.reverse()) await ip(['netns', 'del', ns]).catch(() => {});
  }
}
