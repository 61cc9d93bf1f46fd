// ESLint flat config. Layering between folders is checked by build/scripts/check-layers.mjs
// (npm run check:layers); these rules add what is easier to say per file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const noOnly = {
  selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]",
  message: 'focused tests (.only) are banned: they silently skip the rest of the suite',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.tsbuild/**',
      '.cache/**',
      'test-results/**',
      'playwright-report/**',
      'test/harness/**/*.mjs',
      'test/harness/**/*.cjs',
      'test/harness/vmrun-sim/vmrun',
      'test/harness/hyperv-sim/**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', noOnly],
      'max-lines': ['error', { max: 800, skipBlankLines: true, skipComments: true }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      // Sanitisers of hostile guest names match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['electron/engine/**/*.ts'],
    ignores: ['electron/engine/**/*.test.ts', 'electron/engine/core/clock.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        noOnly,
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'use the injected Clock (engine/core/clock.ts), not Date.now()' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'use the injected Clock (engine/core/clock.ts), not new Date()' },
      ],
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'the engine is plain Node: put Electron code in electron/main' }] }],
    },
  },
  {
    // Playwright fixtures take `({}, use)` by design.
    files: ['test/e2e/**/*.ts'],
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'react-hooks/set-state-in-effect': 'off',
      // "Today" and relative ages are read at render time on purpose; they re-render on a timer.
      'react-hooks/purity': 'off',
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'electron'], message: 'the renderer runs sandboxed: reach the engine through shared/ipc' }] }],
    },
  },
);
