/**
 * YAML (and JSON) → plain values. A local tag becomes cib's JSON form of the same filter:
 * `!Branch "main"` is `{ Branch: "main" }`, `!DefaultBranch` is `{ DefaultBranch: "" }`, so one schema
 * validates both forms; the object remembers its tag for messages ("unknown filter tag !Brnch").
 * Stacked tags (`!Not !BranchDeleted`, which plain YAML rejects as "a node can have at most one tag")
 * are accepted and nest: `{ Not: { BranchDeleted: "" } }`.
 */
import { CST, Composer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, Document } from 'yaml';

const TAG: unique symbol = Symbol('tag');

/** `{ [tag]: value }` with the tag name (without `!`) and its value also under `tag` and `value`, not enumerable. */
export type TaggedValue = Readonly<Record<string, unknown> & { [TAG]: true; tag: string; value: unknown }>;

export function isTagged(v: unknown): v is TaggedValue {
  return typeof v === 'object' && v !== null && TAG in v;
}

export function tagged(tag: string, value: unknown): TaggedValue {
  return Object.defineProperties({ [tag]: value }, { [TAG]: { value: true }, tag: { value: tag }, value: { value } }) as TaggedValue;
}

/** A map written as one (not a list, not a tagged node). */
export function isPlainMap(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isTagged(v);
}

/** What a value is, for messages: `string "x"`, `number 3`, `a map`, `a list`, `tag !Branch`, `nothing`. */
export function kindOf(v: unknown): string {
  if (isTagged(v)) return `tag !${v.tag}`;
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  return typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`;
}

export type YamlProblem = Readonly<{ line: number; column: number; message: string }>;
export type YamlParseResult = { value: unknown; problems: YamlProblem[] };

const STACK_SEP = '%21'; // an encoded '!' joins stacked tags: `!Not%21BranchDeleted`

/** Parses one YAML document. Problems are syntax errors; when there are any, value is best effort. */
export function parseYaml(text: string): YamlParseResult {
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  for (const token of tokens) mergeStackedTags(token);
  const docs = [...new Composer({ uniqueKeys: true }).compose(tokens, true, text.length)];
  const problems: YamlProblem[] = [];
  const report = (offset: number, message: string): void => {
    const pos = lines.linePos(offset);
    problems.push({ line: pos.line, column: pos.col, message });
  };
  if (docs.length > 1) report(docs[1]?.range[0] ?? 0, 'expected a single YAML document');
  const doc = docs[0];
  if (doc === undefined) return { value: null, problems };
  for (const e of doc.errors) report(e.pos[0], firstLine(e.message));
  return { value: toValue(doc, doc.contents, [], report, { aliases: 0 }), problems };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** In every group of node properties, fold several tag tokens into the first one. */
function mergeStackedTags(token: CST.Token): void {
  if (token.type === 'document') {
    mergeProps(token.start);
    if (token.value !== undefined) mergeStackedTags(token.value);
    return;
  }
  if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
    for (const item of token.items) {
      mergeProps(item.start);
      if ('key' in item && item.key) mergeStackedTags(item.key);
      if ('sep' in item && item.sep) mergeProps(item.sep);
      if (item.value) mergeStackedTags(item.value);
    }
  }
}

const PROP_FILLER = new Set(['space', 'newline', 'comment', 'anchor']);

function mergeProps(props: CST.SourceToken[]): void {
  let first: CST.SourceToken | null = null;
  for (let i = 0; i < props.length; i++) {
    const t = props[i];
    if (t === undefined) continue;
    if (t.type === 'tag') {
      if (first !== null && t.source.startsWith('!') && !t.source.startsWith('!!') && first.source.startsWith('!') && !first.source.startsWith('!!')) {
        first.source += STACK_SEP + t.source.slice(1);
        props.splice(i, 1);
        i--;
      } else {
        first = t;
      }
    } else if (!PROP_FILLER.has(t.type)) {
      first = null;
    }
  }
}

type Report = (offset: number, message: string) => void;

/** Aliases expanded per document; bounds "billion laughs" expansion. */
const MAX_ALIASES = 1000;

function toValue(doc: Document, node: unknown, stack: unknown[], report: Report, state: { aliases: number }): unknown {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    if (++state.aliases > MAX_ALIASES) {
      if (state.aliases === MAX_ALIASES + 1) report(node.range?.[0] ?? 0, `more than ${MAX_ALIASES} aliases`);
      return null;
    }
    const target = node.resolve(doc);
    if (target === undefined || stack.includes(target)) {
      report(node.range?.[0] ?? 0, `alias *${node.source} is undefined or recursive`);
      return null;
    }
    return toValue(doc, target, stack, report, state);
  }
  const n = node as YamlNode;
  let value: unknown;
  const inner = [...stack, node];
  if (isScalar(n)) {
    value = n.value;
  } else if (isMap(n)) {
    const obj: Record<string, unknown> = {};
    for (const pair of n.items) {
      if (!isPair(pair)) continue;
      const key = toValue(doc, pair.key, inner, report, state);
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
        report((pair.key as YamlNode | null)?.range?.[0] ?? n.range?.[0] ?? 0, 'map keys must be plain scalars');
        continue;
      }
      // defineProperty: a `__proto__` key must stay data, not change the prototype.
      Object.defineProperty(obj, String(key), {
        value: toValue(doc, pair.value, inner, report, state),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    value = obj;
  } else if (isSeq(n)) {
    value = n.items.map((item) => toValue(doc, item, inner, report, state));
  } else {
    value = null;
  }
  return wrapTags(n.tag, value);
}

function wrapTags(tag: string | undefined, value: unknown): unknown {
  // Core schema tags (`!!str` → tag:yaml.org,2002:str) were applied by the composer already.
  if (tag === undefined || !tag.startsWith('!')) return value;
  const names = tag.slice(1).split(/%21|!/);
  let out = value;
  for (let i = names.length - 1; i >= 0; i--) out = tagged(names[i] ?? '', out);
  return out;
}
