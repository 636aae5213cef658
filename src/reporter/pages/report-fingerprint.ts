/**
 * What the pages on disk were made with, so that a reporter starting with nothing changed writes no
 * page (issue 11): the fingerprint hashes the templates and stylesheet, the database schema version,
 * this file's page-format version, the cibq version shown on every page and the settings pages
 * depend on. A full regeneration records it in `<report_dir>/.cibq-report` (a dot-file: never served
 * as a page nor removed as stale) once done; a start with the same fingerprint and a report dir that
 * still has its index and repository pages needs no full regeneration.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATIONS } from '../../db/migrations.ts';
import { repoPagePath } from './paths.ts';
import { TEMPLATE_DIR } from './templates.ts';

/** Bump when page content changes in code (not templates): every report is then regenerated. */
export const PAGE_FORMAT_VERSION = 1;

const MARKER = '.cibq-report';
const TEMPLATE_FILES = ['layout.hbs', 'index.hbs', 'repo.hbs', 'run.hbs', 'style.css'];

/** The fingerprint of pages made by this code with `version` and `settings` (any JSON value). */
export async function reportFingerprint(version: string, settings: unknown): Promise<string> {
  const h = createHash('sha256');
  const schema = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
  h.update(JSON.stringify({ format: PAGE_FORMAT_VERSION, schema, version, settings }));
  for (const f of TEMPLATE_FILES) h.update(`\0${f}\0`).update(await readFile(join(TEMPLATE_DIR, f)));
  return h.digest('hex');
}

/** The fingerprint recorded in `reportDir`, or null. */
export function recordedFingerprint(reportDir: string): string | null {
  try {
    return readFileSync(join(reportDir, MARKER), 'utf8').trim();
  } catch {
    return null;
  }
}

/** Records `fingerprint` in `reportDir` (atomically), after a full regeneration. */
export function recordFingerprint(reportDir: string, fingerprint: string): void {
  const tmp = join(reportDir, `.tmp-${process.pid}-marker`);
  writeFileSync(tmp, `${fingerprint}\n`);
  renameSync(tmp, join(reportDir, MARKER));
}

/** Whether the report dir still has the pages every pass writes and each repository's index.html. */
export function reportLooksComplete(reportDir: string, repos: readonly string[]): boolean {
  const needed = ['index.html', 'status.json', 'style.css', ...repos.map((r) => repoPagePath(r)).filter((p) => p !== null)];
  return needed.every((p) => existsSync(join(reportDir, p)));
}
