/**
 * The demo's two example repositories, small enough to read in the run logs: `greeter` (a shell
 * script, its tests, and a reproducible release tarball as an artifact) and `calc` (a calculator
 * that a patch teaches to subtract). Each has a `.radicle/native.yaml` that cibq-native runs; the
 * scripts need nothing but bash, coreutils, tar and gzip.
 */

const GREETER_RUNSPEC = `shell: |
  echo "Testing greeter at $RADICLE_COMMIT ($RADICLE_EVENT_TYPE)"
  ./test.sh
  mkdir -p dist
  # Reproducible: same commit, same bytes, on any node (file times from SOURCE_DATE_EPOCH).
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -cf - greet.sh README.md | gzip -n > dist/greeter.tar.gz
  echo "Built dist/greeter.tar.gz"
artifacts:
  - dist/greeter.tar.gz
`;

const GREETER_TEST = `#!/usr/bin/env bash
# The greeter's tests: each check prints ok or FAIL.
set -euo pipefail
check() {
  if [ "$1" = "$2" ]; then echo "ok   - $3"; else echo "FAIL - $3: expected '$2', got '$1'"; exit 1; fi
}
check "$(./greet.sh)" "Hello, world!" "greets the world"
check "$(./greet.sh Radicle)" "Hello, Radicle!" "greets by name"
`;

const greet = (line: string): string => `#!/usr/bin/env bash
# greet.sh [NAME]: prints a greeting.
set -euo pipefail
${line}
`;

export const GREETER = {
  name: 'greeter',
  description: 'Says hello; the cibq demo builds it',
  initial: {
    '.radicle/native.yaml': GREETER_RUNSPEC,
    'README.md': '# greeter\n\n`./greet.sh NAME` says hello.\n',
    'greet.sh': greet('echo "Hello, ${1:-world}!"'),
    'test.sh': GREETER_TEST,
  },
  /** A passing change: the README learns more. */
  passing: {
    message: 'Document the default name',
    files: { 'README.md': '# greeter\n\n`./greet.sh NAME` says hello to NAME (to the world without one).\n' },
  },
  /** A failing change: the greeting loses its punctuation, and the tests notice. */
  failing: {
    message: 'Greet more casually',
    files: { 'greet.sh': greet('echo "Hello ${1:-world}"') },
  },
};

const CALC_RUNSPEC = `shell: |
  echo "Testing calc at $RADICLE_COMMIT"
  ./test.sh
`;

const calc = (ops: string): string => `#!/usr/bin/env bash
# calc.sh OP A B: integer arithmetic.
set -euo pipefail
case "$1" in
  add) echo $(( $2 + $3 )) ;;
${ops}  *) echo "calc: unknown operation $1" >&2; exit 2 ;;
esac
`;

const calcTest = (extra: string): string => `#!/usr/bin/env bash
set -euo pipefail
check() {
  if [ "$1" = "$2" ]; then echo "ok   - $3"; else echo "FAIL - $3: expected '$2', got '$1'"; exit 1; fi
}
check "$(./calc.sh add 2 3)" "5" "adds"
${extra}`;

export const CALC = {
  name: 'calc',
  description: 'A tiny calculator; the cibq demo reviews a patch to it',
  initial: {
    '.radicle/native.yaml': CALC_RUNSPEC,
    'README.md': '# calc\n\n`./calc.sh add 2 3` prints 5.\n',
    'calc.sh': calc(''),
    'test.sh': calcTest(''),
  },
  /** The patch: subtraction, with its test. */
  patch: {
    title: 'Add subtraction',
    description: 'calc.sh sub A B prints A minus B.',
    message: 'Add subtraction',
    files: {
      'calc.sh': calc('  sub) echo $(( $2 - $3 )) ;;\n'),
      'test.sh': calcTest('check "$(./calc.sh sub 7 2)" "5" "subtracts"\n'),
    },
  },
};
