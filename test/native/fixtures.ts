/**
 * cibq-native under test as a broker runs it: the real bin/cibq-native, a trigger line on stdin,
 * a configuration file named by RADICLE_NATIVE_CI, a node's real git storage (FakeStorage) and
 * real bash. Each fixture has its own directory (also the adapter's TMPDIR, so a test can see
 * that the checkout is gone afterwards).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { parseResponseLine, type AdapterResponse } from '../../src/worker/adapter-response.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

export const CIBQ_NATIVE = join(import.meta.dirname, '..', '..', 'bin', 'cibq-native');

export type NativeRun = {
  code: number;
  stdout: string;
  stderr: string;
  responses: AdapterResponse[];
  runId: string | null;
  runDir: string | null;
  /** result.json of the run directory, when there is one. */
  result: Record<string, unknown> | null;
};

export class NativeFixture {
  readonly dir: string;
  readonly radHome: string;
  readonly state: string;
  readonly storage: FakeStorage;
  readonly rid: string;
  readonly nid: string;
  readonly did: string;
  #parent: string | null = null;

  private constructor(dir: string, storage: FakeStorage, repo: { rid: string }, key: { nid: string; did: string }) {
    this.dir = dir;
    this.radHome = storage.radHome;
    this.state = join(dir, 'state');
    this.storage = storage;
    this.rid = repo.rid;
    this.nid = key.nid;
    this.did = key.did;
  }

  static async create(): Promise<NativeFixture> {
    const dir = await mkdtemp(join(tmpdir(), 'cibq-native-test-'));
    await execa('mkdir', ['-p', join(dir, 'tmp')]);
    const key = makeNodeKey();
    const storage = await FakeStorage.create(join(dir, 'rad'));
    const repo = await storage.createRepo({ name: 'acme', delegates: [key.nid] });
    return new NativeFixture(dir, storage, repo, key);
  }

  /** A commit on top of the previous one with these files; `native` is `.radicle/native.yaml`. */
  async commit(files: Record<string, string>, opts: { message?: string; time?: number } = {}): Promise<string> {
    const oid = await this.storage.commit(this.rid, { files, parent: this.#parent, ...opts });
    this.#parent = oid;
    return oid;
  }

  /** Commits a run spec whose `shell` is `script` (and `artifacts`, when given) and pushes it to `branch`. */
  async pushScript(script: string, opts: { artifacts?: string[]; branch?: string; message?: string; files?: Record<string, string> } = {}): Promise<string> {
    const spec = stringify({ shell: script, ...(opts.artifacts ? { artifacts: opts.artifacts } : {}) });
    const oid = await this.commit({ '.radicle/native.yaml': spec, ...opts.files }, opts.message === undefined ? {} : { message: opts.message });
    await this.storage.pushBranch(this.rid, this.nid, opts.branch ?? 'main', oid);
    return oid;
  }

  /** A cibq push trigger message for `commit` on `branch`. */
  pushTrigger(commit: string, branch = 'main'): string {
    return JSON.stringify({
      request: 'trigger', version: 1, event_type: 'push',
      repository: { id: this.rid, name: 'acme', description: '', private: false, default_branch: 'main', delegates: [this.did] },
      pusher: { id: this.did, alias: null },
      before: commit, after: commit,
      branch: `refs/namespaces/${this.nid}/refs/heads/${branch}`,
      commits: [commit],
    });
  }

  /** Writes the adapter configuration (state and log in the fixture, plus `extra`) and returns its path. */
  async config(extra: Record<string, unknown> = {}): Promise<string> {
    const file = join(this.dir, `native-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, stringify({ state: this.state, log: join(this.dir, 'admin.log'), base_url: 'https://ci.example.org/native', timeout: 60, ...extra }));
    return file;
  }

  /** Starts bin/cibq-native with `line` on stdin; `env` goes on top of a minimal environment. */
  spawn(line: string, configFile: string, env: Record<string, string> = {}, opts: { detached?: boolean } = {}) {
    return execa(CIBQ_NATIVE, [], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir, TMPDIR: join(this.dir, 'tmp'), RAD_HOME: this.radHome, RADICLE_NATIVE_CI: configFile, ...env },
      extendEnv: false,
      reject: false,
      input: `${line}\n`,
      timeout: 120_000,
      detached: opts.detached ?? false,
    });
  }

  async run(line: string, configExtra: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<NativeRun> {
    const r = await this.spawn(line, await this.config(configExtra), env);
    return this.outcome({ code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) });
  }

  async outcome(r: { code: number; stdout: string; stderr: string }): Promise<NativeRun> {
    const lines = r.stdout === '' ? [] : r.stdout.split('\n');
    const responses = lines.map((l, i) => {
      const p = parseResponseLine(l, i + 1, i === 0 ? 'triggered' : 'finished');
      if (!p.ok) throw new Error(`stdout line ${i + 1} breaks the protocol: ${p.reason}`);
      return p.response;
    });
    const first = responses[0];
    const runId = first?.response === 'triggered' ? first.run_id.id : null;
    const runDir = runId === null ? null : join(this.state, runId);
    const result = runDir === null ? null : (JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8').catch(() => 'null')) as Record<string, unknown> | null);
    return { ...r, responses, runId, runDir, result };
  }

  /** What is left in the adapter's TMPDIR (checkouts it did not remove). */
  async leftovers(): Promise<string[]> {
    return readdir(join(this.dir, 'tmp'));
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export { isAlive as alive } from '../helpers/processes.ts';

/** Polls until `check` is true or `ms` pass. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
