import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { createResultFile } from '../../src/worker/result-file.ts';

function capture() {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
  return { log, lines };
}

test('an adapter that writes a report to CIBQ_RESULT_FILE gets its artifacts and test counts carried on; the directory is removed', async () => {
  const f = await createResultFile();
  const sha = 'a'.repeat(64);
  await writeFile(f.path, JSON.stringify({ artifacts: [{ name: 'mytool', sha256: sha, size: 3, extra: 1 }], adapter_version: '1.2', tests: { passed: 4 }, other: true }));
  const { log } = capture();
  assert.deepEqual(await f.collect(log), { artifacts: [{ name: 'mytool', sha256: sha, size: 3 }], adapter_version: '1.2', tests: { passed: 4, failed: 0, warned: 0 } });
  assert.equal(existsSync(dirname(f.path)), false);
});

test('no report, bad JSON or a wrong shape: no report, logged, never an exception', async () => {
  const none = await createResultFile();
  const { log, lines } = capture();
  assert.equal(await none.collect(log), null);
  assert.equal(lines.length, 0, 'an adapter that ignores the file is not warned about');
  for (const text of ['{not json', JSON.stringify({ artifacts: [{ name: 'x', sha256: 'nothex', size: 1 }] })]) {
    const f = await createResultFile();
    await writeFile(f.path, text);
    const c = capture();
    assert.equal(await f.collect(c.log), null);
    assert.match(c.lines.join(''), /CIBQ_RESULT_FILE is not a valid report; ignored/);
    assert.equal(existsSync(dirname(f.path)), false);
  }
});

test('each run gets its own file', async () => {
  const [a, b] = [await createResultFile(), await createResultFile()];
  assert.notEqual(a.path, b.path);
  await a.collect(pino({ level: 'silent' }));
  await b.collect(pino({ level: 'silent' }));
});
