// Typed linting under TypeScript 7: tsc 7 (the Go port, package `@typescript/native` here) checks
// and builds, and ships no JavaScript compiler API, which typescript-eslint (peer typescript <6.1)
// reads types through. So the `typescript` package is `@typescript/typescript6`, the compatibility
// package Microsoft publishes for API users beside TypeScript 7 (its 7.0 release notes); `tsc` on
// the path stays 7 and both read tsconfig.json. The alias goes once typescript-eslint supports 7
// (typescript-eslint/typescript-eslint#10940).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node's globals the few plain .mjs files (spawned fixtures, a bench server) use.
const NODE_GLOBALS = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'fetch',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'performance',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  // .tmp/ is the tests' scratch (docs blocks written out to run): a killed run leaves it behind.
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Index access is checked (noUncheckedIndexedAccess); `!` marks an index or lookup the code
      // has just bounded, where a guard per access would add branches to the record and scrape paths.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `_name` marks a parameter an override ignores and a key a rest pattern leaves out.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Public entry points check what untyped JavaScript callers and config files pass, against
      // types that say it cannot be wrong; tests' teardown handles and loop flags are set in
      // callbacks that TypeScript's narrowing does not follow.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // An async function is how a callback promises its result (a fastify plugin, a job library's
      // handler, an interface method) even when it has nothing to await.
      '@typescript-eslint/require-await': 'off',
      // The OpenTelemetry exporters pin their own sdk-metrics and core, so the same enum arrives
      // as two declared types; the values are the specification's numbers either way.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unsafe-enum-assignment': 'off',
      // An attribute value is `unknown` in the OpenTelemetry API (AnyValue); String() of it is the
      // specification's rule for a label value, as for values read off the wire.
      '@typescript-eslint/no-base-to-string': 'off',
      // Attributes and config tables are plain records by contract; a key leaves them by name.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // Escaping and validating control characters is what the exposition code does.
      'no-control-regex': 'off',
      // Numbers and booleans print as themselves in messages and labels; `'' + n` is the fast
      // number-to-string on the exposition path.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/restrict-plus-operands': ['error', { allowNumberAndString: true }],
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // `if (bad) return guard.drop(...)` in a void or async function is the early exit here, and
      // `(x) => use(x)` the callback; neither hides a value.
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Tests compare a method's identity before and after instrumenting it, and pass helper
      // objects' arrow-function members around.
      '@typescript-eslint/unbound-method': 'off',
      // Tests take JSON bodies, database rows and child-process events as they come (`any`) and
      // the assertion that follows is the check.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['bench/**'],
    rules: {
      // A/B runs import another checkout's modules by path, and run.ts lists scenarios of
      // different parameter types: both untyped on purpose, each scenario typed in its own file.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: NODE_GLOBALS },
  },
);
