/** `cibq config check`: the resolved configuration as JSON with secrets masked, or its errors. */
import { maskedConfig } from '../../config/config-load.ts';
import { parseCommand } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';

export const CONFIG_HELP = `Usage: cibq config check [--config FILE]

Loads the configuration and prints it resolved (defaults applied, paths absolute, durations as
strings like "1h" or "30s") as JSON, with sensitive values masked. Exits 2 and names every bad key otherwise.`;

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
  return 0;
}
