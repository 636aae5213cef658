/**
 * `cibq verify`: checks, offline and with nothing but did:keys, what the nodes that ran CI on a commit
 * signed (issue 9). It reads every namespace's job COBs for the commit from the node's storage,
 * verifies each change's signature and each attestation (signed by the change's author, about this
 * commit), and prints the verdict with the nodes behind it; exit 0 only for `verified`. With FILE it
 * checks one `*.intoto.jsonl` file against the given did:keys. `--fetch-logs` downloads each
 * attested log and compares its sha256.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { intFlag, parseCommand, stringFlag, type Parsed } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { Oid, Rid } from '../../model/ci-event.ts';
import { TestResultStatement } from '../../model/test-result.ts';
import { evaluateAgreement, type Agreement } from '../../signing/agreement.ts';
import { artifactLine, nodeName, verdictBadge, verdictLine } from '../../signing/agreement-text.ts';
import { keyOfDid, verifyEnvelope } from '../../signing/dsse.ts';
import { JobStore, JobTargetMissing } from '../../storage/job-store.ts';
import { UsageError } from '../../util/errors.ts';
import { parseJson } from '../../util/parse-json.ts';

export const VERIFY_HELP = `Usage: cibq verify --repo RID --commit OID [--trust DID]... [--threshold T] [--json] [--fetch-logs]
       cibq verify FILE --trust DID [--trust DID]... [--json]

Checks the CI results nodes signed for COMMIT of repository RID, offline, from the node's storage
(RAD_HOME, or node.rad_home of --config): every job COB change's signature and every run's in-toto
attestation (it must be signed by the node that wrote the change, and be about this commit). Only
runs of the same adapter and configuration are compared. Verdicts:
  verified      at least T trusted nodes attest PASSED and no trusted node attests FAILED (exit 0)
  disputed      trusted nodes disagree (exit 1)
  failed        trusted nodes attest FAILED only (exit 1)
  insufficient  fewer than T trusted nodes attest anything (exit 1)
Trusted nodes: every --trust did:key, else trust.nodes of the configuration, else the repository's
delegates. T: --threshold, else trust.threshold, else 1. Other nodes are shown and never counted.

  --fetch-logs  also download each attested log and compare it with its recorded sha256
  FILE          check the envelopes of one attestation file (e.g. runs/<id>.intoto.jsonl) instead`;

type LogCheck = { did: string; uri: string; ok: boolean; why: string | null };

async function fetchLog(uri: string, sha256: string): Promise<{ ok: boolean; why: string | null }> {
  try {
    const u = new URL(uri);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, why: 'not an http(s) URL' };
    const r = await fetch(u, { signal: AbortSignal.timeout(30_000), redirect: 'follow' });
    if (!r.ok) return { ok: false, why: `HTTP ${r.status}` };
    const got = createHash('sha256').update(Buffer.from(await r.arrayBuffer())).digest('hex');
    return got === sha256 ? { ok: true, why: null } : { ok: false, why: `sha256 ${got} ≠ attested ${sha256}` };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message : String(e) };
  }
}

function trustFlags(p: Parsed): string[] {
  const raw = (p.values as Record<string, unknown>)['trust'];
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  for (const d of list) if (keyOfDid(d) === null) throw new UsageError(`--trust: not a did:key: ${JSON.stringify(d)}`);
  return list;
}

async function verifyFile(ctx: CommandContext, file: string, trusted: string[], json: boolean): Promise<number> {
  if (trusted.length === 0) throw new UsageError('cibq verify FILE needs at least one --trust did:key');
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file} (${e.code ?? 'error'})`);
  });
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const results = lines.map((line) => {
    let env: unknown;
    try {
      env = JSON.parse(line);
    } catch {
      return { valid: false, why: 'not JSON', signers: [] as string[], statement: null };
    }
    const v = verifyEnvelope(env, trusted);
    if (!v.ok) return { valid: false, why: v.why, signers: [] as string[], statement: null };
    const parsed = parseJson(TestResultStatement, v.payload.toString('utf8'));
    const st = parsed.success ? parsed.data : null;
    if (st === null) return { valid: false, why: 'not an in-toto Test Result statement', signers: v.signers, statement: null };
    if (!v.signers.includes(st.predicate.radicle.node)) return { valid: false, why: 'the statement names another node than its signer', signers: v.signers, statement: st };
    return { valid: true, why: null, signers: v.signers, statement: st };
  });
  const ok = results.length > 0 && results.every((r) => r.valid);
  if (json) {
    print(ctx, JSON.stringify({ file, valid: ok, envelopes: results }, null, 2));
  } else {
    if (results.length === 0) print(ctx, `${file}: no envelope`);
    for (const r of results) {
      const s = r.statement;
      const about = s ? `${s.predicate.result} ${s.subject.map((d) => `${d.uri ?? d.name ?? ''}@${d.digest?.gitCommit ?? '?'}`).join(', ')}` : '';
      print(ctx, r.valid ? `valid: ${about} signed by ${r.signers.join(', ')}` : `INVALID: ${r.why}`);
    }
  }
  return ok ? 0 : 1;
}

function printAgreement(ctx: CommandContext, a: Agreement, logs: LogCheck[]): void {
  const passedMax = Math.max(0, ...a.groups.map((g) => g.passed.length));
  print(ctx, `${verdictBadge(a.verdict, a.threshold, passedMax)}: ${a.rid} commit ${a.commit}`);
  print(ctx, `trusted (t=${a.threshold}): ${a.trusted.length === 0 ? 'none' : a.trusted.join(', ')}`);
  if (a.groups.length === 0) print(ctx, 'no node attested a result for this commit');
  for (const g of a.groups) {
    print(ctx, `\nadapter ${g.adapter || '?'} [${g.configuration}]: ${verdictBadge(g.verdict, g.threshold, g.passed.length)}`);
    print(ctx, `  ${verdictLine(g)}`);
    for (const n of g.nodes) {
      const lc = logs.find((l) => l.did === n.did && l.uri === n.log?.uri);
      const mark = lc === undefined ? '' : lc.ok ? ' log ✓' : ` log ✗ (${lc.why})`;
      print(ctx, `  ${n.result.padEnd(6)} ${n.trusted ? 'trusted' : 'other  '} ${n.did}  ${n.finishedOn ?? ''}  ${n.url}${mark}`);
    }
    for (const art of g.artifacts) print(ctx, `  artifact ${artifactLine(art)}`);
  }
  for (const i of a.invalid) print(ctx, `invalid: ${nodeName(i.did)} run ${i.uuid}: ${i.why}`);
  if (a.unattested > 0) print(ctx, `unattested: ${a.unattested} finished run(s) without an attestation (not counted)`);
  if (a.badSignatures > 0) print(ctx, `ignored: ${a.badSignatures} change(s) with a bad signature`);
  if (a.foreignChanges > 0) print(ctx, `ignored: ${a.foreignChanges} change(s) signed by a key that is not their namespace's`);
}

export async function verifyMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(
    ctx.argv,
    {
      repo: { type: 'string' },
      commit: { type: 'string' },
      trust: { type: 'string', multiple: true },
      threshold: { type: 'string' },
      json: { type: 'boolean' },
      'fetch-logs': { type: 'boolean' },
    },
    true,
  );
  if (p.values.help) {
    print(ctx, VERIFY_HELP);
    return 0;
  }
  const flagTrust = trustFlags(p);
  const json = p.values.json === true;
  const [file, ...extra] = p.positionals;
  if (extra.length > 0) throw new UsageError('usage: cibq verify FILE --trust DID');
  if (file !== undefined) return verifyFile(ctx, file, flagTrust, json);
  const rid = stringFlag(p, 'repo');
  const commit = stringFlag(p, 'commit');
  if (rid === undefined || commit === undefined) throw new UsageError('usage: cibq verify --repo RID --commit OID [--trust DID]... [--threshold T]');
  if (!Rid.safeParse(rid).success) throw new UsageError(`not a repository id: ${JSON.stringify(rid)}`);
  if (!Oid.safeParse(commit).success) throw new UsageError(`not a full commit id: ${JSON.stringify(commit)}`);
  const hasConfig = stringFlag(p, 'config') !== undefined || (ctx.env.CIBQ_CONFIG ?? '') !== '';
  const config = hasConfig ? await configFor(ctx, p) : null;
  const radHome = config?.node.radHome ?? (ctx.env.RAD_HOME || join(ctx.homeDir, '.radicle'));
  const threshold = intFlag(p, 'threshold', 1) ?? config?.trust.threshold ?? 1;
  const store = new JobStore({ radHome, signer: null, log: pino({ level: 'silent' }) });
  try {
    let claims;
    try {
      claims = await store.claimsFor(rid, commit);
    } catch (e) {
      if (e instanceof JobTargetMissing) {
        ctx.stderr.write(`cibq: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    const trusted = flagTrust.length > 0 ? flagTrust : (config?.trust.nodes ?? claims.delegates);
    const agreement = evaluateAgreement({
      rid,
      commit: claims.commit,
      claims: claims.claims,
      trusted,
      threshold,
      badSignatures: claims.badSignatures,
      foreignChanges: claims.foreignChanges,
    });
    const logs: LogCheck[] = [];
    if (p.values['fetch-logs'] === true) {
      for (const g of agreement.groups) {
        for (const n of g.nodes) {
          if (n.log?.uri) logs.push({ did: n.did, uri: n.log.uri, ...(await fetchLog(n.log.uri, n.log.sha256)) });
        }
      }
    }
    if (json) print(ctx, JSON.stringify({ ...agreement, ...(p.values['fetch-logs'] === true ? { logs } : {}) }, null, 2));
    else printAgreement(ctx, agreement, logs);
    const badTrustedLog = logs.some((l) => !l.ok && agreement.trusted.includes(l.did));
    return agreement.verdict === 'verified' && !badTrustedLog ? 0 : 1;
  } finally {
    await store.close();
  }
}
