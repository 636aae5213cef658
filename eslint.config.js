// Lint for cibq: typescript-eslint's type-checked rules, and the floor plan as import rules.
// The plan (docs/architecture.md): imports point down only, and never sideways between processes.
//   cli → processes (producer, worker, reporter, dashboard, publisher, native) → bootstrap
//       → rooms (queue, db, storage, node, signing) → config → model → util
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const PROCESSES = ['producer', 'worker', 'reporter', 'dashboard', 'publisher', 'native'];
const ROOMS = ['queue', 'db', 'storage', 'node', 'signing'];
/** Each layer, top to bottom; a folder may import its own layer's folder and any folder below. */
const LAYERS = [['cli'], PROCESSES, ['bootstrap'], ROOMS, ['config'], ['model'], ['util']];

/** import-x zones: for every folder, every folder it must not import from. */
function floorPlanZones() {
  const zones = [];
  LAYERS.forEach((layer, i) => {
    const above = LAYERS.slice(0, i).flat();
    for (const room of layer) {
      // Sideways between processes and between rooms of one layer is forbidden too, except
      // within the room itself. (config, model, util are single-room layers.)
      const siblings = layer.filter((r) => r !== room);
      for (const from of [...above, ...siblings]) {
        zones.push({
          target: `./src/${room}`,
          from: `./src/${from}`,
          message: `src/${room} sits below or beside src/${from}: see docs/architecture.md`,
        });
      }
    }
  });
  return zones;
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.cibq/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: floorPlanZones() }],
      'import-x/no-self-import': 'error',
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Tests and CLI code compare `unknown` JSON read back from files and Redis; narrowing them
      // through zod at the boundary is the rule, and these rules would flag every such read.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Async functions that implement a Promise-returning port without awaiting are fine.
      '@typescript-eslint/require-await': 'off',
      // Template literals with numbers and unions of string literals are fine.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } },
  },
);
