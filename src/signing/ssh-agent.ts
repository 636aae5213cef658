/**
 * A minimal ssh-agent client (draft-miller-ssh-agent): list the agent's identities and ask it to
 * sign bytes with one of them, over the Unix socket in SSH_AUTH_SOCK. This is how `rad` signs when
 * `rad auth` registered the node key with the agent; the private key never enters this process.
 */
import net from 'node:net';
import { WireReader, sshString, u32 } from './ssh-wire.ts';

const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const MAX_MESSAGE = 256 * 1024;

/** One request, one answer, on a fresh connection (agents answer in order; this keeps it simple). */
async function request(socketPath: string, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    let len = 0;
    const timer = setTimeout(() => finish(new Error(`ssh-agent did not answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | null, answer?: Buffer): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err !== null) reject(err);
      else resolve(answer ?? Buffer.alloc(0));
    };
    sock.on('error', (e) => finish(new Error(`cannot talk to ssh-agent: ${e.message}`)));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      len += d.length;
      const buf = Buffer.concat(chunks, len);
      if (buf.length < 4) return;
      const size = buf.readUInt32BE(0);
      if (size > MAX_MESSAGE) return finish(new Error('ssh-agent answer too large'));
      if (buf.length >= 4 + size) finish(null, buf.subarray(4, 4 + size));
    });
    sock.on('end', () => finish(new Error('ssh-agent closed the connection without an answer')));
    sock.write(Buffer.concat([u32(message.length), message]));
  });
}

export type AgentIdentity = { keyBlob: Buffer; comment: string };

export async function agentIdentities(socketPath: string, timeoutMs = 5000): Promise<AgentIdentity[]> {
  const answer = await request(socketPath, Buffer.from([REQUEST_IDENTITIES]), timeoutMs);
  const r = new WireReader(answer, 'ssh-agent answer');
  const type = r.u8();
  if (type === FAILURE) throw new Error('ssh-agent refused to list its keys');
  if (type !== IDENTITIES_ANSWER) throw new Error(`unexpected ssh-agent answer ${type}`);
  const n = r.u32();
  const out: AgentIdentity[] = [];
  for (let i = 0; i < n; i++) out.push({ keyBlob: Buffer.from(r.string()), comment: r.text() });
  return out;
}

/** The agent's signature blob (string(type) ‖ string(signature)) of `data` with the key `keyBlob`. */
export async function agentSign(socketPath: string, keyBlob: Buffer, data: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const msg = Buffer.concat([Buffer.from([SIGN_REQUEST]), sshString(keyBlob), sshString(data), u32(0)]);
  const answer = await request(socketPath, msg, timeoutMs);
  const r = new WireReader(answer, 'ssh-agent answer');
  const type = r.u8();
  if (type === FAILURE) throw new Error('ssh-agent refused to sign (is the key still loaded, or does it need confirmation?)');
  if (type !== SIGN_RESPONSE) throw new Error(`unexpected ssh-agent answer ${type}`);
  return Buffer.from(r.string());
}
