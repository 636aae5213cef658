/**
 * Which supersede setting applies to a run: a trigger's wins over its adapter's, which wins over the
 * global one — also when the global filters selected the same adapter as the trigger.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { supersedeFor } from '../../src/producer/dispatch.ts';
import type { AdapterConfig, TriggerConfig } from '../../src/config/config.ts';

const allowed = { allowed: true, filter: 'x' };
const denied = { allowed: false, filter: 'x' };
const adapter = (supersede: boolean | null) => ({ supersede }) as unknown as AdapterConfig;
const trigger = (name: string, supersede: boolean | null): TriggerConfig => ({ adapter: name, filters: [], supersede });

test("a trigger's setting wins even when the global filters picked the same adapter first", () => {
  const cfg = { supersede: true, adapters: { a: adapter(null) }, triggers: [trigger('a', false)] };
  const decisions = [
    { source: 'filters', adapter: 'a', decision: allowed },
    { source: 'triggers[0]', adapter: 'a', decision: allowed },
  ];
  assert.equal(supersedeFor(cfg, 'a', decisions), false);
});

test('a trigger without a setting, or one that did not match, defers to the adapter, then the global', () => {
  const cfg = { supersede: false, adapters: { a: adapter(true), b: adapter(null) }, triggers: [trigger('a', null), trigger('b', true)] };
  assert.equal(supersedeFor(cfg, 'a', [{ source: 'triggers[0]', adapter: 'a', decision: allowed }]), true);
  assert.equal(supersedeFor(cfg, 'b', [{ source: 'triggers[1]', adapter: 'b', decision: denied }, { source: 'filters', adapter: 'b', decision: allowed }]), false);
  assert.equal(supersedeFor({ ...cfg, supersede: true }, 'b', [{ source: 'filters', adapter: 'b', decision: allowed }]), true);
});
