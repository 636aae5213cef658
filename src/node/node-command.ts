/**
 * One command on the node's control socket (reference radicle-node.md §1): connect, write one JSON
 * line, read one answer line (or until EOF), close. `{"error": …}` answers come back as values.
 */
import net from 'node:net';

export type CommandAnswer = { ok: true; value: unknown } | { ok: false; error: string };

const MAX_ANSWER = 1024 * 1024;

export async function nodeCommand(socketPath: string, command: Record<string, unknown>, timeoutMs = 30_000): Promise<CommandAnswer> {
  return new Promise<CommandAnswer>((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let buf = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`the node did not answer ${String(command.command)} within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | null, text?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== null) return reject(err);
      let value: unknown;
      try {
        value = JSON.parse(text ?? '');
      } catch {
        return resolve({ ok: false, error: `unreadable answer from the node: ${JSON.stringify((text ?? '').slice(0, 200))}` });
      }
      const error = (value as { error?: unknown } | null)?.error;
      resolve(typeof error === 'string' ? { ok: false, error } : { ok: true, value });
    };
    sock.setEncoding('utf8');
    sock.on('error', (e) => finish(new Error(`cannot reach the node at ${socketPath}: ${e.message}`)));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(null, buf.slice(0, nl));
      else if (buf.length > MAX_ANSWER) finish(new Error('answer from the node too long'));
    });
    sock.on('end', () => (buf.trim() === '' ? finish(new Error('the node closed the connection without an answer')) : finish(null, buf)));
    sock.write(`${JSON.stringify(command)}\n`);
  });
}
