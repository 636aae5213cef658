/**
 * `sandbox: bwrap`: the script runs under bubblewrap with the system's directories read-only, only
 * the checkout and the run's home writable, a private /tmp, /proc and /dev, every namespace
 * unshared (so no network unless `network: true`), and no view of the rest of the machine: not
 * the node's storage or keys, not the state directory, not other users' homes. When the adapter
 * dies the sandbox dies with it. Whether bwrap works here is found out before a run starts.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';

/** What a sandboxed script sees of the host, read-only (when present). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt'];

function systemMounts(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    // Merged /usr: /bin is a symlink to usr/bin; keep it a symlink inside too.
    if (lstatSync(dir).isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  return args;
}

export type SandboxPaths = { checkout: string; home: string; network: boolean };

/** bwrap's arguments up to (not including) the command to run in the sandbox. */
export function bwrapArgs(p: SandboxPaths): string[] {
  return [
    ...systemMounts(),
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
    '--dir', '/var/tmp',
    ...(p.network ? ['--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve'] : []),
    '--bind', p.home, p.home,
    '--bind', p.checkout, p.checkout,
    // The sandbox's own root (where the mount points above were made) becomes read-only too.
    '--remount-ro', '/',
    '--chdir', p.checkout,
    '--unshare-all',
    ...(p.network ? ['--share-net'] : []),
    '--hostname', 'cibq-native',
    '--die-with-parent',
    '--',
  ];
}

export type SandboxCheck = { ok: true } | { ok: false; reason: string };

/** Whether `bwrap` exists and can build this sandbox on this machine (user namespaces and all). */
export async function checkBwrap(env: Record<string, string>): Promise<SandboxCheck> {
  const r = await execa('bwrap', [...systemMounts(), '--proc', '/proc', '--dev', '/dev', '--unshare-all', '--die-with-parent', '--', 'true'], {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 15_000,
  });
  if (r.exitCode === 0) return { ok: true };
  if (r.code === 'ENOENT') {
    return { ok: false, reason: 'sandbox: bwrap is set, but bubblewrap (bwrap) is not installed or not on PATH; install it (Debian: apt-get install bubblewrap). cibq-native never runs a script unsandboxed instead' };
  }
  const why = String(r.stderr).trim() || r.shortMessage;
  return {
    ok: false,
    reason: `sandbox: bwrap is set, but bwrap cannot build a sandbox on this machine: ${why} (user namespaces may be disabled: see sysctl user.max_user_namespaces and kernel.unprivileged_userns_clone). cibq-native never runs a script unsandboxed instead`,
  };
}
