/**
 * Loads and compiles the report page templates (`templates/*.hbs`) into a private handlebars
 * instance, once per process (compiled at load, not at first use). Templates only use `{{ }}` (escaped) output,
 * never `{{{ }}}`: even the coloured log is a list of escaped text segments.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';

export const TEMPLATE_DIR = join(import.meta.dirname, 'templates');
export const STYLESHEET = join(TEMPLATE_DIR, 'style.css');

export type Render = (context: object) => string;
export type Templates = Readonly<{ index: Render; repo: Render; run: Render }>;

let loaded: Promise<Templates> | undefined;

async function load(): Promise<Templates> {
  const hb = Handlebars.create();
  const read = (name: string) => readFile(join(TEMPLATE_DIR, `${name}.hbs`), 'utf8');
  const [layout, index, repo, run] = await Promise.all([read('layout'), read('index'), read('repo'), read('run')]);
  hb.registerPartial('layout', layout);
  const compile = (src: string): Render => {
    const t = hb.compile(src, { strict: false, noEscape: false, knownHelpersOnly: true });
    // handlebars compiles on first use: do it now, not in the first page write after a run.
    t({});
    return (context) => t(context);
  };
  return { index: compile(index), repo: compile(repo), run: compile(run) };
}

export function loadTemplates(): Promise<Templates> {
  loaded ??= load().catch((e: unknown) => {
    loaded = undefined;
    throw e;
  });
  return loaded;
}
