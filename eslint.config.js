// Lint with type information (typescript-eslint). Everywhere: the rules that catch real bugs in
// async code — promises nobody awaits or handles, promises passed where a callback's result is
// ignored, awaiting what is not a promise — and dead code (unused variables and imports).
// The server and the web client (src/, web/src/) get typescript-eslint's whole type-checked set,
// `any` rules included: no `any` crosses a module boundary there. Tests, benchmarks and scripts
// read JSON bodies and protocol frames whose shape they assert, so the `no-unsafe-*` family is
// left to production code.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const BUG_RULES = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': 'error',
  '@typescript-eslint/await-thenable': 'error',
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
};

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'web/dist/', 'coverage/', 'reports/', 'data/', 'test-results/', '.stryker-tmp/', '.ci/'],
  },
  js.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    rules: BUG_RULES,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['web/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'vitest.*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
