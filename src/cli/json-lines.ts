/**
 * Files of JSON lines for the event tools: reading them line by line (`-` is stdin) and writing
 * them to stdout or a file, so `cibq event record | event ci | event filter` compose.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export type Line = { n: number; text: string };

/** Non-empty lines of `file` (or stdin for `-`), numbered from 1. Throws if the file cannot be read. */
export async function* readLines(file: string, stdin: NodeJS.ReadableStream = process.stdin): AsyncGenerator<Line> {
  const input = file === '-' ? stdin : createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n += 1;
    if (text.trim() !== '') yield { n, text };
  }
}

export type LineSink = { write(line: string): void; close(): Promise<void> };

/** Lines to `file` (created or truncated), or to `stdout` when file is undefined. */
export async function openSink(file: string | undefined, stdout: NodeJS.WritableStream): Promise<LineSink> {
  if (file === undefined) {
    return { write: (line) => void stdout.write(`${line}\n`), close: async () => {} };
  }
  const out = createWriteStream(file, { flags: 'w' });
  await Promise.race([once(out, 'open'), once(out, 'error').then(([e]) => Promise.reject(e as Error))]);
  return {
    write: (line) => void out.write(`${line}\n`),
    close: () => new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve()))),
  };
}
