/**
 * The SSH wire encoding (RFC 4251 §5) shared by OpenSSH private keys, the ssh-agent protocol and
 * SSHSIG containers: big-endian u32 and length-prefixed strings.
 */

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** A length-prefixed string of bytes. */
export function sshString(data: Buffer | string): Buffer {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([u32(buf.length), buf]);
}

/** The public key blob of an Ed25519 key: string("ssh-ed25519") ‖ string(pub32). */
export function ed25519KeyBlob(pub32: Buffer): Buffer {
  return Buffer.concat([sshString('ssh-ed25519'), sshString(pub32)]);
}

/** The signature blob of an Ed25519 signature: string("ssh-ed25519") ‖ string(sig64). */
export function ed25519SignatureBlob(sig64: Buffer): Buffer {
  return Buffer.concat([sshString('ssh-ed25519'), sshString(sig64)]);
}

/** Reads SSH wire values in order; throws `what` on truncated input. */
export class WireReader {
  readonly #buf: Buffer;
  readonly #what: string;
  #at = 0;

  constructor(buf: Buffer, what: string) {
    this.#buf = buf;
    this.#what = what;
  }

  get remaining(): number {
    return this.#buf.length - this.#at;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.#at + n > this.#buf.length) throw new Error(`truncated ${this.#what}`);
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  u32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  u8(): number {
    return this.bytes(1).readUInt8(0);
  }

  string(): Buffer {
    return this.bytes(this.u32());
  }

  text(): string {
    return this.string().toString('utf8');
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }
}
