/** The machine a bench ran on: what its figures are relative to. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export type Environment = {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  redis: string;
  sqlite: string;
  git: string;
  os: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAverage: number;
};

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8' });
    return re.exec(out)?.[1] ?? out.trim();
  } catch {
    return 'unknown';
  }
}

export function environment(): Environment {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: version('redis-server', ['--version'], /v=(\S+)/),
    sqlite: process.versions.sqlite ?? 'unknown',
    git: version('git', ['--version'], /git version (\S+)/),
    os: `${os.type()} ${os.release()}`,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}
