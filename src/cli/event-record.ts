/**
 * One subscription to the node's control socket for `cibq event record`: no reconnecting (unlike
 * the producer's NodeSubscription) — a recording ends when the node closes the stream or the
 * caller aborts. Every line the node sends that is an event is passed on exactly as received;
 * anything else (not JSON, node errors, malformed events) is reported and skipped.
 */
import net from 'node:net';
import { parseNodeEventLine } from '../node/node-event.ts';
import { takeLines } from '../util/lines.ts';
import { NodeUnavailable } from '../util/errors.ts';

/** Longer lines are not events we could use; they are reported and dropped, not buffered forever. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

export type RecordOptions = {
  socketPath: string;
  /** Gets each event line as the node sent it (without the newline). */
  onEvent: (line: string) => void;
  /** Gets a description of each unusable line. */
  onProblem: (message: string) => void;
  /** Called once the subscription is sent. */
  onSubscribed?: () => void;
  signal?: AbortSignal;
};

export type RecordResult = { events: number; skipped: number; end: 'eof' | 'aborted' };

export function recordNodeEvents(opts: RecordOptions): Promise<RecordResult> {
  return new Promise<RecordResult>((resolve, reject) => {
    const result: RecordResult = { events: 0, skipped: 0, end: 'eof' };
    const sock = net.createConnection(opts.socketPath);
    let buf = '';
    let connected = false;
    const line = (text: string) => {
      const t = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (t.trim() === '') return;
      const parsed = parseNodeEventLine(t);
      if (parsed.ok) {
        result.events += 1;
        opts.onEvent(t);
      } else {
        result.skipped += 1;
        opts.onProblem(`skipping line from node (${parsed.reason}): ${t.slice(0, 200)}`);
      }
    };
    const onAbort = () => {
      result.end = 'aborted';
      sock.destroy();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      sock.write('{"command":"subscribe"}\n');
      opts.onSubscribed?.();
    });
    sock.on('data', (chunk: string) => {
      const split = takeLines(buf, chunk);
      buf = split.rest;
      for (const l of split.lines) line(l);
      if (buf.length > MAX_LINE_CHARS) {
        result.skipped += 1;
        opts.onProblem(`skipping an over-long line from node (${buf.length} characters)`);
        buf = '';
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && result.end !== 'aborted') {
        const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'the node is not running' : err.message;
        reject(new NodeUnavailable(`cannot connect to the node's control socket ${opts.socketPath}: ${why}`));
      }
    });
    sock.on('close', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (buf.trim() !== '' && result.end === 'eof') line(buf); // a last line without newline
      if (connected || result.end === 'aborted') resolve(result);
    });
  });
}
