/**
 * A fresh clone stays clean after `npm install`: npm adds a lock entry for every optional
 * dependency of every platform (msgpackr-extract's darwin and win32 builds, say) when the lock lacks
 * one, so a lock missing any would be rewritten on the newcomer's first install.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

type LockPackage = { version?: string; optionalDependencies?: Record<string, string> };

test('the lock file has an entry for every optional dependency, whatever the platform', () => {
  const lock = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'package-lock.json'), 'utf8')) as {
    lockfileVersion: number;
    packages: Record<string, LockPackage>;
  };
  assert.equal(lock.lockfileVersion, 3);
  const missing: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      // npm resolves a dependency next to its dependent first, then in each parent node_modules.
      const candidates: string[] = [];
      for (let dir = where; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
        candidates.push(`${dir === '' ? '' : `${dir}/`}node_modules/${name}`);
        if (dir === '') break;
      }
      if (!candidates.some((c) => c in lock.packages)) missing.push(`${name} (optional dependency of ${where || 'the project'})`);
    }
  }
  assert.deepEqual(missing, []);
});

test("the lock file's root entry matches package.json (bins, dependencies, engines)", () => {
  const root = path.join(import.meta.dirname, '..', '..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const entry = lock.packages[''];
  for (const key of ['name', 'version', 'license', 'bin', 'dependencies', 'devDependencies', 'engines']) {
    assert.deepEqual(entry?.[key], pkg[key], key);
  }
});
