// typescript-eslint, flat config. `npm run lint` runs it and madge's cycle
// check (import cycles) before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/*.js', 'node_modules/**', '.node-red/**', '.cache/**', '.artifacts/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `const node = this` is Node-RED's idiom for a node's constructor.
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests and benchmarks drive untyped test helpers and private internals.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests spell out float literals on purpose (0.27000000000000005, 2^53 + 1).
      'no-loss-of-precision': 'off',
      'no-useless-assignment': 'off',
    },
  },
);
