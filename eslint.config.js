// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'docs/**', '**/coverage/**', '.pack-check/**', 'examples/.snippets/**']
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['packages/*/vitest.config.ts', 'packages/*/vitest.mutate.config.ts', 'bench/vitest.config.ts', 'examples/vitest.config.ts', 'attack/vitest.config.ts']
        },
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      // Floating promises and misused promises are the bugs that matter in socket code.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Aborted operations reject with `signal.reason`, which may be anything (the spec's choice).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a union of string literals instead of an enum.' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No namespaces: use modules.' },
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        { selector: 'ExportAllDeclaration', message: 'Re-export by name, never with export *.' }
      ]
    }
  },
  {
    files: ['**/test/**/*.ts', '**/bench/**/*.ts', '**/examples/**/*.ts', '**/attack/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles implement async interfaces with bodies that need not await.
      '@typescript-eslint/require-await': 'off'
    }
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked
  },
  {
    // Config files read by tools that take the default export (Stryker's too).
    files: ['**/vitest.config.ts', '**/vitest.mutate.config.ts', '**/stryker.config.mjs', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' }
  }
)
