/**
 * `cibq config check`: the resolved configuration as JSON with secrets masked, or its errors; and a
 * warning for each adapter whose command cannot be started on this machine.
 */
import { maskedConfig } from '../../config/config-load.ts';
import { findExecutable } from '../../util/find-executable.ts';
import { parseCommand } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';

export const CONFIG_HELP = `Usage: cibq config check [--config FILE]

Loads the configuration and prints it resolved (defaults applied, paths absolute, durations as
strings like "1h" or "30s") as JSON, with sensitive values masked. Exits 2 and names every bad key otherwise.
Warns (on stderr) about each adapter whose command does not exist on this machine.`;

export async function configMain(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  const p = parseCommand(sub === 'check' ? rest : ctx.argv, {});
  if (p.values.help || sub === undefined || sub === '--help' || sub === '-h') {
    print(ctx, CONFIG_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'check' && !sub.startsWith('-')) {
    print({ ...ctx, stdout: ctx.stderr }, `unknown config subcommand "${sub}"\n\n${CONFIG_HELP}`);
    return 2;
  }
  const config = await configFor(ctx, p);
  print(ctx, JSON.stringify(maskedConfig(config), null, 2));
  for (const a of Object.values(config.adapters)) {
    const found = findExecutable(a.command, ctx.env.PATH, ctx.cwd);
    if (!found.ok) {
      ctx.stderr.write(`cibq: warning: adapters.${a.name}.command: ${found.problem}: a worker on this machine cannot run adapter "${a.name}"\n`);
    }
  }
  return 0;
}
