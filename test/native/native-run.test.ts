/**
 * cibq-native end to end, as a broker runs it: real git storage, real bash, the real executable.
 * What a user relies on: the protocol's two lines, a result that says what the script did, a log
 * that says why, no process or checkout left behind, nothing a peer wrote ever run by a shell.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { alive, eventually, NativeFixture } from './fixtures.ts';

let f: NativeFixture;
before(async () => {
  f = await NativeFixture.create();
});
after(async () => {
  await f.close();
});

describe('protocol and result', () => {
  test('a passing script: triggered with the log page as info_url, then finished success; output streamed to stderr', async () => {
    const commit = await f.pushScript('echo "building $RADICLE_REPO_NAME"\ntest "$(git rev-parse HEAD)" = "$RADICLE_COMMIT"\necho done');
    const r = await f.run(f.pushTrigger(commit));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.responses.length, 2);
    assert.deepEqual(r.responses[0], { response: 'triggered', run_id: { id: r.runId }, info_url: `https://ci.example.org/native/${r.runId}/log.html` });
    assert.deepEqual(r.responses[1], { response: 'finished', result: 'success' });
    assert.match(r.stderr, /^building acme$/m);
    assert.match(r.stderr, /^done$/m);
    assert.ok(r.runDir);
    const txt = await readFile(join(r.runDir, 'log.txt'), 'utf8');
    assert.match(txt, /^building acme$/m);
    const html = await readFile(join(r.runDir, 'log.html'), 'utf8');
    assert.match(html, /class="result success"/);
    assert.match(html, new RegExp(`<code>${commit}</code>`));
    assert.match(html, /<dd class="exit-code">0<\/dd>/);
    assert.match(html, /<dd class="sandbox">no: the script runs on the host/);
    assert.match(html, /<dd class="duration">[\d.]+ (ms|s)<\/dd>/);
    assert.equal(r.result?.result, 'success');
    assert.deepEqual(await f.leftovers(), [], 'the checkout is removed');
    const admin = await readFile(join(f.dir, 'admin.log'), 'utf8');
    assert.match(admin, new RegExp(`"runId":"${r.runId}".*"msg":"run finished"`));
  });

  test('a failing script finishes failure, with its exit code on the page and the reason in result.json', async () => {
    const commit = await f.pushScript('echo "about to fail"\nexit 3');
    const r = await f.run(f.pushTrigger(commit));
    assert.equal(r.code, 0);
    assert.deepEqual(r.responses[1], { response: 'finished', result: 'failure' });
    assert.equal(r.result?.exit_code, 3);
    assert.equal(r.result?.reason, 'the script exited with code 3');
    const html = await readFile(join(r.runDir ?? '', 'log.html'), 'utf8');
    assert.match(html, /<dd class="exit-code">3<\/dd>/);
    assert.match(html, /the script exited with code 3/);
  });

  test('bash runs with -euo pipefail: a failing command in the middle, or in a pipeline, fails the run', async () => {
    for (const script of ['false\necho "not reached"', 'false | cat\necho "not reached"', 'echo "$UNSET_VARIABLE"']) {
      const r = await f.run(f.pushTrigger(await f.pushScript(script)));
      assert.deepEqual(r.responses[1], { response: 'finished', result: 'failure' }, script);
      assert.doesNotMatch(r.stderr, /^not reached$/m);
    }
  });

  test('a commit without .radicle/native.yaml finishes failure, and the log says what is missing', async () => {
    const commit = await f.commit({ 'README.md': 'no CI here\n' });
    const r = await f.run(f.pushTrigger(commit));
    assert.deepEqual(r.responses[1], { response: 'finished', result: 'failure' });
    assert.match(r.stderr, /this commit has no \.radicle\/native\.yaml, so there is nothing to run/);
    assert.match(await readFile(join(r.runDir ?? '', 'log.html'), 'utf8'), /has no \.radicle\/native\.yaml/);
    assert.equal(r.result?.runspec, null);
  });

  test('an invalid native.yaml finishes failure with the reason', async () => {
    for (const [text, why] of [
      ['shell: [unclosed', /is not valid YAML at line 1/],
      ['script: make\n', /shell: required/],
      ['shell: make\nartifacts: [../outside]\n', /artifacts\.0: must be a path inside the checkout/],
    ] as const) {
      const r = await f.run(f.pushTrigger(await f.commit({ '.radicle/native.yaml': text })));
      assert.deepEqual(r.responses[1], { response: 'finished', result: 'failure' }, text);
      assert.match(String(r.result?.reason), why);
      assert.match(r.stderr, why);
    }
  });

  test('SOURCE_DATE_EPOCH is the commit time; the environment is clean: no adapter variable reaches the script', async () => {
    const commit = await f.pushScript('env > env.txt', { artifacts: ['env.txt'] });
    const r = await f.run(f.pushTrigger(commit), {}, { SECRET_TOKEN: 'hunter22', REDIS_URL: 'redis://:pw@x', CIBQ_RUN_ID: 'broker-run-7', GIT_DIR: '/nonexistent' });
    assert.equal(r.result?.result, 'success', r.stderr);
    const env = new Map((await readFile(join(r.runDir ?? '', 'artifacts', 'env.txt'), 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const { stdout: time } = await execa('git', ['--git-dir', join(f.radHome, 'storage', f.rid.slice(4)), 'show', '-s', '--format=%ct', commit]);
    assert.equal(env.get('SOURCE_DATE_EPOCH'), time);
    assert.equal(r.result?.source_date_epoch, Number(time));
    assert.equal(env.get('CI'), 'true');
    assert.equal(env.get('CIBQ_RUN_ID'), 'broker-run-7');
    assert.equal(env.get('CIBQ_NATIVE_RUN_ID'), r.runId);
    assert.equal(env.get('RADICLE_RID'), f.rid);
    assert.equal(env.get('RADICLE_BRANCH'), 'main');
    assert.equal(env.get('RADICLE_COMMIT'), commit);
    assert.ok(env.get('HOME')?.endsWith('/home') && env.get('HOME') !== f.dir, 'HOME is the run\'s own');
    const allowed = /^(PATH|HOME|TMPDIR|CI|LANG|TZ|SOURCE_DATE_EPOCH|CIBQ_[A-Z_]+|RADICLE_[A-Z_]+|PWD|OLDPWD|SHLVL|_)$/;
    assert.deepEqual([...env.keys()].filter((k) => !allowed.test(k)), []);
    for (const name of ['SECRET_TOKEN', 'REDIS_URL', 'RAD_HOME', 'RADICLE_NATIVE_CI', 'GIT_DIR']) assert.equal(env.has(name), false, name);
  });

  test('a bad trigger line gets no response at all: the broker records an error', async () => {
    const r = await f.run('{"request":"trigger","version":1,"event_type":"push","repository":{"id":"not-a-rid"}}');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /not a trigger request: repository\.id/);
  });

  test("a repository that is not in storage ends without finished (the adapter's fault, not the commit's), with the log saying why", async () => {
    const trigger = f.pushTrigger('a'.repeat(40)).replace(f.rid, 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5');
    const r = await f.run(trigger);
    assert.equal(r.code, 1);
    assert.equal(r.responses.length, 1);
    assert.match(r.stderr, /is not in the node's storage .* and no git_url is configured/);
    assert.equal(r.result?.result, 'error');
  });
});

describe('where the commit comes from', () => {
  test('git_url fetches a repository this machine has no storage of', async () => {
    const commit = await f.pushScript('echo "fetched over git_url"');
    const seed = join(f.dir, 'seed');
    await execa('mkdir', ['-p', seed]);
    await execa('git', ['clone', '-q', '--mirror', join(f.radHome, 'storage', f.rid.slice(4)), join(seed, `${f.rid.slice(4)}.git`)]);
    const r = await f.run(f.pushTrigger(commit), { git_url: `file://${seed}/{rid}.git` }, { RAD_HOME: join(f.dir, 'no-node') });
    assert.equal(r.result?.result, 'success', r.stderr);
    assert.match(r.stderr, new RegExp(`from file://${seed}/${f.rid.slice(4)}\\.git`));
    assert.match(r.stderr, /^fetched over git_url$/m);
  });

  test('keep: true keeps the checkout and says where', async () => {
    const commit = await f.pushScript('echo kept > kept.txt');
    const r = await f.run(f.pushTrigger(commit), { keep: true });
    const m = /keeping the checkout in (\S+)/.exec(r.stderr);
    assert.ok(m?.[1]);
    assert.equal(await readFile(join(m[1], 'src', 'kept.txt'), 'utf8'), 'kept\n');
    await rm(m[1], { recursive: true });
  });
});

describe('peer-controlled text', () => {
  test('a branch name and a commit message full of shell metacharacters change nothing', async () => {
    const canary = join(f.dir, 'pwned');
    // Git refuses spaces in ref names: ${IFS} stands in for them.
    const ifs = '${IFS}';
    const branch = `x$(touch${ifs}${canary})\`touch${ifs}${canary}\`;touch${ifs}${canary}&&'"|<b>`;
    const message = `fix $(touch ${canary}) \`touch ${canary}\`; touch ${canary} && echo '<script>alert(1)</script>'\n\n"quoted" $HOME`;
    const commit = await f.pushScript('printf "%s" "$RADICLE_BRANCH" > branch.txt\ngit log -1 --format=%B > message.txt\necho "branch: $RADICLE_BRANCH"', {
      branch,
      message,
      artifacts: ['branch.txt', 'message.txt'],
    });
    const r = await f.run(f.pushTrigger(commit, branch));
    assert.equal(r.result?.result, 'success', r.stderr);
    assert.equal(existsSync(canary), false, 'nothing the peer wrote was run');
    assert.equal(await readFile(join(r.runDir ?? '', 'artifacts', 'branch.txt'), 'utf8'), branch);
    assert.equal((await readFile(join(r.runDir ?? '', 'artifacts', 'message.txt'), 'utf8')).trim(), message.trim());
    const html = await readFile(join(r.runDir ?? '', 'log.html'), 'utf8');
    assert.doesNotMatch(html, /<script>|<b>/);
    assert.match(html, /&lt;b&gt;/);
    assert.equal(existsSync(canary), false);
  });

  test('output with HTML in it is shown as text on the log page (checked in a browser)', async (t) => {
    const commit = await f.pushScript(`echo '<script>document.title="owned"</script><b id="bold">not bold</b> &amp; <a href="javascript:alert(1)">x</a>'`);
    const r = await f.run(f.pushTrigger(commit));
    let browser: TestBrowser | null = null;
    t.after(async () => browser?.close());
    browser = await launchBrowser();
    const page = await browser.open(`file://${join(r.runDir ?? '', 'log.html')}`);
    assert.doesNotMatch(await page.title(), /owned/);
    const log = await page.locator('pre.log').textContent();
    assert.match(log ?? '', /<script>document\.title="owned"<\/script><b id="bold">not bold<\/b> &amp; <a href="javascript:alert\(1\)">x<\/a>/);
    assert.equal(await page.locator('#bold').count(), 0);
    assert.equal(await page.locator('pre.log a').count(), 0);
  });
});

describe('artifacts', () => {
  test("each artifact's sha256 and size are recorded in the run directory and in CIBQ_RESULT_FILE; the same commit built twice gives the same digests", async () => {
    const script = [
      'mkdir -p dist',
      'date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ > dist/stamp.txt',
      'tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -cf dist/src.tar README.md',
      'printf "%s" "$RADICLE_COMMIT" > dist/commit.txt',
    ].join('\n');
    const commit = await f.pushScript(script, { artifacts: ['dist/src.tar', 'dist/stamp.txt', 'dist/commit.txt'], files: { 'README.md': 'hello\n' } });
    const resultFile = join(f.dir, 'cibq-result.json');
    const r1 = await f.run(f.pushTrigger(commit), {}, { CIBQ_RESULT_FILE: resultFile });
    assert.equal(r1.result?.result, 'success', r1.stderr);
    const artifacts = r1.result?.artifacts as { name: string; sha256: string; size: number }[];
    assert.deepEqual(artifacts.map((a) => a.name), ['dist/src.tar', 'dist/stamp.txt', 'dist/commit.txt']);
    for (const a of artifacts) {
      const bytes = await readFile(join(r1.runDir ?? '', 'artifacts', a.name));
      assert.equal(a.sha256, createHash('sha256').update(bytes).digest('hex'), a.name);
      assert.equal(a.size, bytes.length, a.name);
    }
    assert.equal(await readFile(join(r1.runDir ?? '', 'artifacts', 'dist/commit.txt'), 'utf8'), commit);
    assert.deepEqual(JSON.parse(await readFile(join(r1.runDir ?? '', 'artifacts.json'), 'utf8')), artifacts);
    const fromBroker = JSON.parse(await readFile(resultFile, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(fromBroker, r1.result);
    assert.deepEqual(Object.keys(fromBroker).sort(), ['adapter', 'adapter_version', 'artifacts', 'commit', 'duration_ms', 'exit_code', 'finished_at', 'log', 'reason', 'repository', 'result', 'run_id', 'runspec', 'sandbox', 'source_date_epoch', 'started_at', 'timed_out', 'version']);
    const log = fromBroker.log as { sha256: string; size: number; url: string };
    const txt = await readFile(join(r1.runDir ?? '', 'log.txt'));
    assert.equal(log.sha256, createHash('sha256').update(txt).digest('hex'));
    assert.equal(log.url, `https://ci.example.org/native/${r1.runId}/log.txt`);
    const { stdout: blob } = await execa('git', ['--git-dir', join(f.radHome, 'storage', f.rid.slice(4)), 'rev-parse', `${commit}:.radicle/native.yaml`]);
    assert.deepEqual(fromBroker.runspec, { path: '.radicle/native.yaml', git_blob: blob });
    const html = await readFile(join(r1.runDir ?? '', 'log.html'), 'utf8');
    for (const a of artifacts) assert.match(html, new RegExp(a.sha256));

    const r2 = await f.run(f.pushTrigger(commit));
    assert.deepEqual(r2.result?.artifacts, artifacts, 'reproducible: the same digests on a second run');
  });

  test('a declared artifact the script did not produce, or one leading outside the checkout, fails the run', async () => {
    const missing = await f.run(f.pushTrigger(await f.pushScript('echo no artifact', { artifacts: ['out/missing.bin'] })));
    assert.deepEqual(missing.responses[1], { response: 'finished', result: 'failure' });
    assert.equal(missing.result?.reason, 'artifact out/missing.bin was not produced');
    const escape = await f.run(f.pushTrigger(await f.pushScript(`ln -s ${f.dir} out`, { artifacts: ['out/admin.log'] })));
    assert.deepEqual(escape.responses[1], { response: 'finished', result: 'failure' });
    assert.equal(escape.result?.reason, 'artifact out/admin.log leads outside the checkout; refused');
    assert.equal(existsSync(join(escape.runDir ?? '', 'artifacts', 'out', 'admin.log')), false);
  });
});

describe('time limit and stopping', () => {
  test('a timeout kills the whole process tree, even children that ignore SIGTERM', async () => {
    const pids = join(f.dir, 'timeout-pids');
    const script = [
      `sleep 300 & echo $! >> ${pids}`,
      `bash -c 'trap "" TERM; while true; do sleep 1; done' & echo $! >> ${pids}`,
      `(trap "" TERM; sleep 300) & echo $! >> ${pids}`,
      `echo $$ >> ${pids}`,
      'wait',
    ].join('\n');
    const r = await f.run(f.pushTrigger(await f.pushScript(script)), { timeout: 1 });
    assert.deepEqual(r.responses[1], { response: 'finished', result: 'failure' });
    assert.equal(r.result?.timed_out, true);
    assert.match(String(r.result?.reason), /^the script exceeded the time limit of 1 s and was stopped/);
    const list = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    assert.equal(list.length, 4);
    await eventually('every process of the script to be gone', () => list.every((p) => !alive(p)));
    assert.deepEqual(await f.leftovers(), []);
  });

  test('SIGTERM to cibq-native stops the script and still finishes; SIGKILL to its process group still ends the script', async () => {
    const pids = join(f.dir, 'stop-pids');
    const started = join(f.dir, 'stop-started');
    const script = `sleep 300 & echo $! >> ${pids}\necho $$ >> ${pids}\ntouch ${started}\nwait`;
    const commit = await f.pushScript(script);

    const term = f.spawn(f.pushTrigger(commit), await f.config());
    await eventually('the script to start', () => existsSync(started), 20_000);
    term.kill('SIGTERM');
    const t = await term;
    const r = await f.outcome({ code: t.exitCode ?? -1, stdout: String(t.stdout), stderr: String(t.stderr) });
    assert.deepEqual(r.responses[1], { response: 'finished', result: 'failure' });
    assert.match(String(r.result?.reason), /the script was stopped: cibq-native received SIGTERM/);
    const first = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    await eventually('the stopped script to be gone', () => first.every((p) => !alive(p)));

    // A broker that kills the adapter's group with SIGKILL (a worker's last resort) must not leave
    // the script running in its own group.
    await execa('rm', ['-f', pids, started]);
    const killed = f.spawn(f.pushTrigger(commit), await f.config(), {}, { detached: true });
    await eventually('the script to start again', () => existsSync(started), 20_000);
    process.kill(-(killed.pid ?? 0), 'SIGKILL');
    await killed;
    const second = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    await eventually('the orphaned script to be gone', () => second.every((p) => !alive(p)));
    const tmp = await readdir(join(f.dir, 'tmp'));
    await execa('rm', ['-rf', ...tmp.map((d) => join(f.dir, 'tmp', d))]);
  });
});

describe('configuration', () => {
  test('a missing or invalid configuration exits 2 naming the problem, before any response', async () => {
    const commit = await f.pushScript('echo hi');
    const none = await f.spawn(f.pushTrigger(commit), join(f.dir, 'nope.yaml'));
    assert.equal(none.exitCode, 2);
    assert.equal(String(none.stdout), '');
    assert.match(String(none.stderr), /cannot read RADICLE_NATIVE_CI=.*nope\.yaml: no such file/);
    const bad = await f.run(f.pushTrigger(commit), { sandbox: 'docker', colour: 'blue', timeout: 'soon' });
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /sandbox: Invalid option/);
    assert.match(bad.stderr, /colour: unknown key/);
    assert.match(bad.stderr, /timeout: /);
    const net = await f.run(f.pushTrigger(commit), { network: false });
    assert.equal(net.code, 2);
    assert.match(net.stderr, /network: false needs sandbox: bwrap/);
  });
});
