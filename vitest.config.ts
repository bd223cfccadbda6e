import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const pkg = (name: string) =>
  fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@middy-chaos\/core\/(file-provider|fault)$/,
        replacement: fileURLToPath(new URL('./packages/core/src/$1.ts', import.meta.url)),
      },
      {
        find: /^@middy-chaos\/core\/failure-lambda$/,
        replacement: fileURLToPath(
          new URL('./packages/core/src/formats/failure-lambda.ts', import.meta.url),
        ),
      },
      {
        find: /^@middy-chaos\/fis\/local$/,
        replacement: fileURLToPath(new URL('./packages/fis/src/local/index.ts', import.meta.url)),
      },
      { find: /^@middy-chaos\/([a-z-]+)$/, replacement: pkg('$1') },
    ],
  },
  test: {
    include: [
      'packages/*/tests/**/*.test.ts',
      'test/**/*.test.ts',
      'examples/*/tests/**/*.test.ts',
    ],
    globalSetup: ['./test/setup/peers.ts'],
    setupFiles: ['./test/setup/fast-check.ts'],
    env: {
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // In GitHub Actions: the CLI runs the tests start do not add to the job's summary.
      GITHUB_STEP_SUMMARY: '',
    },
    // CI asks for a JSON report beside the usual output (VITEST_JSON_REPORT=<file>).
    reporters: process.env.VITEST_JSON_REPORT ? ['default', 'json'] : ['default'],
    ...(process.env.VITEST_JSON_REPORT
      ? { outputFile: { json: process.env.VITEST_JSON_REPORT } }
      : {}),
    testTimeout: 20_000,
    hookTimeout: 60_000,
    benchmark: { include: ['packages/*/tests/**/*.bench.ts', 'bench/**/*.bench.ts'] },
  },
})
