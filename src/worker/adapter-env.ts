/**
 * The environment an adapter starts from (reference cib.md §4.1: adapters inherit the broker's
 * environment). cibq's own secrets are removed, and the run's identity is added. The adapter's
 * `env`, `sensitive_env` and `config_env` go on top in runAdapter.
 */

/**
 * What an adapter, which runs code from peers, must never inherit: the Redis URL and password, the
 * node key's passphrase, and the ssh-agent socket (an agent holding the node key would let a build
 * sign as the node).
 */
export const BROKER_SECRETS = ['REDIS_URL', 'CIBQ_REDIS_URL', 'CIBQ_REDIS_PASSWORD', 'REDISCLI_AUTH', 'RAD_PASSPHRASE', 'SSH_AUTH_SOCK'] as const;

/**
 * `processEnv` without the variables named in `secretNames` and without unset values, plus `extra`
 * (e.g. CIBQ_RUN_ID, CIBQ_ADAPTER, RAD_HOME), which wins over inherited values.
 */
export function adapterBaseEnv(
  processEnv: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>>,
  secretNames: readonly string[] = BROKER_SECRETS,
): Record<string, string> {
  const secrets = new Set(secretNames);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(processEnv)) {
    if (value !== undefined && !secrets.has(name)) env[name] = value;
  }
  return { ...env, ...extra };
}
