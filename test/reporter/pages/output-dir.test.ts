/**
 * Writing the report directory while another process writes it too (`cibq report` next to a
 * running reporter): a full pass removes only files it knows are stale.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newOutput, put, removeUnproduced } from '../../../src/reporter/pages/output-dir.ts';

let dir: string;
const OLD = new Date('2000-01-01T00:00:00Z');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-out-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(rel: string, mtime?: Date): Promise<void> {
  const path = join(dir, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, rel);
  if (mtime !== undefined) await utimes(path, mtime, mtime);
}

test('a full pass removes stale files, but not files written meanwhile, nor temporary dot-files', async () => {
  await file('runs/stale.html', OLD);
  await file('runs/kept.html', OLD);
  await file('badges/z1/gone/old.svg', OLD);
  const out = newOutput(dir);
  await put(out, 'runs/kept.html', 'new content');
  // The reporter, meanwhile: a page for a run this pass did not see, and a file being written.
  await file('runs/new-run.html');
  await file('runs/.tmp-999-0123456789ab', OLD);
  await removeUnproduced(out, 'runs');
  await removeUnproduced(out, 'badges');
  assert.equal(existsSync(join(dir, 'runs/stale.html')), false);
  assert.equal(existsSync(join(dir, 'badges/z1')), false, 'emptied directories are removed');
  assert.equal(await readFile(join(dir, 'runs/kept.html'), 'utf8'), 'new content');
  assert.equal(existsSync(join(dir, 'runs/new-run.html')), true);
  assert.equal(existsSync(join(dir, 'runs/.tmp-999-0123456789ab')), true);
  assert.deepEqual(out.removed.sort(), ['badges/z1/gone/old.svg', 'runs/stale.html']);
});

test('a write whose directory another pass just removed as empty recreates it', async () => {
  const out = newOutput(dir);
  await put(out, 'repos/x/index.html', 'one');
  await rm(join(dir, 'repos/x/index.html'));
  await rmdir(join(dir, 'repos/x'));
  await put(out, 'repos/x/page-1.html', 'two');
  assert.equal(await readFile(join(dir, 'repos/x/page-1.html'), 'utf8'), 'two');
});
