/**
 * Which adapters an event starts: the global `filters` (OR-ed) select `default_adapter`, and every
 * trigger's filters select its adapter (reference cib.md §2). An adapter appears at most once.
 */
import type { CiEvent } from '../model/ci-event.ts';
import type { Config } from '../config/config.ts';
import { evaluateFilters, type Decision, type FilterContext } from '../config/filter-eval.ts';

export type Selection = {
  adapters: string[];
  /** One entry per filter list evaluated, for `cibq event filter` and the debug log. */
  decisions: { source: string; adapter: string; decision: Decision }[];
};

export async function selectAdapters(
  config: Pick<Config, 'filters' | 'defaultAdapter' | 'triggers'>,
  e: CiEvent,
  ctx: FilterContext,
): Promise<Selection> {
  const adapters: string[] = [];
  const decisions: Selection['decisions'] = [];
  if (config.filters.length > 0 && config.defaultAdapter !== null) {
    const decision = await evaluateFilters(config.filters, e, ctx);
    decisions.push({ source: 'filters', adapter: config.defaultAdapter, decision });
    if (decision.allowed) adapters.push(config.defaultAdapter);
  }
  for (const [i, t] of config.triggers.entries()) {
    const decision = await evaluateFilters(t.filters, e, ctx);
    decisions.push({ source: `triggers[${i}]`, adapter: t.adapter, decision });
    if (decision.allowed && !adapters.includes(t.adapter)) adapters.push(t.adapter);
  }
  return { adapters, decisions };
}
