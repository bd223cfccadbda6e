import { basename, dirname, resolve } from 'node:path'
import { resolveMaxAgeSeconds } from '@middy-chaos/core'
import { describeError, UsageError } from '@middy-chaos/experiment'
import { nextSignal } from '../runner/signals.js'
import { CACHE_WINDOW_HEADER, loadHandler, startServer } from '../serve/index.js'
import { createStore, resolveStoreSelection } from '../stores/index.js'
import {
  durationOption,
  numberOption,
  STORE_HELP,
  STORE_OPTIONS,
  storeSelection,
  stringOption,
} from './args.js'
import type { Command } from './command.js'

/**
 * `serve`'s chaos config cache window, in seconds, when neither `--max-age`
 * nor `POWERTOOLS_PARAMETERS_MAX_AGE` gives one: 0, the store read on every
 * request, so that a change shows on the next one (Lambda's default is 5 s).
 */
export const DEFAULT_SERVE_MAX_AGE = 0

/** `middy-chaos serve`: a Lambda handler behind a local API Gateway (REST API, proxy integration). */
export const serveCommand: Command = {
  name: 'serve',
  positionals: 1,
  usage: ['serve <handler module> [--export handler] [--port 3000] [--timeout 3s]'],
  help: () => `middy-chaos serve <handler module> [options]
  Serves a Lambda handler at http://HOST:PORT/ as API Gateway's REST API with a Lambda proxy integration.
  --export <name>        exported handler (default handler)
  --port <n>             default 3000 (0 picks a free port)
  --host <host>          default 127.0.0.1
  --timeout <duration>   function timeout (default 3s, Lambda's default); past it: 502
  --function-name <n>    context.functionName (default: the module's folder name)
  --memory <mb>          context.memoryLimitInMB (default 128)
  --stage <name>         API stage in requestContext (default local)
  --max-age <seconds>    chaos config cache, POWERTOOLS_PARAMETERS_MAX_AGE (default 0 here: the store
                         is read on every request, a change shows on the next one; 5 in Lambda)
${STORE_HELP}`,
  options: () => ({
    ...STORE_OPTIONS,
    export: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    timeout: { type: 'string' },
    'function-name': { type: 'string' },
    memory: { type: 'string' },
    stage: { type: 'string' },
    'max-age': { type: 'string' },
  }),
  async run({ values, positionals }, { terminal }) {
    const modulePath = positionals[0]
    if (!modulePath)
      throw new UsageError('serve: which handler module? (middy-chaos serve lib/index.js)')
    const port = numberOption(
      'port',
      stringOption(values, 'port'),
      3000,
      (n) => Number.isInteger(n) && n >= 0 && n < 65536,
    )
    const timeoutMs = durationOption('timeout', stringOption(values, 'timeout'), 3000)
    if (timeoutMs <= 0) throw new UsageError('--timeout: must be more than 0')
    const memoryMb = numberOption(
      'memory',
      stringOption(values, 'memory'),
      128,
      (n) => Number.isInteger(n) && n >= 128,
    )
    const maxAge = numberOption(
      'max-age',
      stringOption(values, 'max-age'),
      Number.NaN,
      (n) => n >= 0,
    )

    // The in-process middlewares read these when the handler module is imported.
    const selection = storeSelection(values)
    const { kind, parameter } = resolveStoreSelection(selection)
    process.env.CHAOS_STORE = kind
    process.env.CHAOS_PARAM = parameter
    // 0: every request reads the store, so a change shows on the next request.
    if (!Number.isNaN(maxAge)) process.env.POWERTOOLS_PARAMETERS_MAX_AGE = String(maxAge)
    else process.env.POWERTOOLS_PARAMETERS_MAX_AGE ??= String(DEFAULT_SERVE_MAX_AGE)
    if (selection.endpoint) process.env.AWS_ENDPOINT_URL_SSM = selection.endpoint
    if (selection.region) process.env.AWS_REGION = selection.region
    const functionName =
      stringOption(values, 'function-name') ??
      basename(dirname(resolve(modulePath)).replace(/[/\\](lib|dist|build|src)$/, '')) ??
      'local'
    process.env.AWS_LAMBDA_FUNCTION_NAME ??= functionName
    process.env.AWS_LAMBDA_FUNCTION_VERSION ??= '$LATEST'
    process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ??= String(memoryMb)

    const exportName = stringOption(values, 'export') ?? 'handler'
    const handler = await loadHandler(modulePath, exportName)
    const stage = stringOption(values, 'stage')
    const server = await startServer({
      handler,
      port,
      host: stringOption(values, 'host') ?? '127.0.0.1',
      timeoutMs,
      functionName,
      memoryMb,
      ...(stage ? { stage } : {}),
      // The function's cache window, for experiment run's settling time.
      headers: { [CACHE_WINDOW_HEADER]: String(resolveMaxAgeSeconds(undefined)) },
    })
    const store = createStore(selection)
    terminal.error(
      `middy-chaos serve: Listening on ${server.url} (handler ${modulePath}#${exportName}, timeout ${(timeoutMs / 1000).toFixed(2)} s, chaos config ${store.description}, cache ${resolveMaxAgeSeconds(undefined)} s${resolveMaxAgeSeconds(undefined) === 0 ? ': the store is read on every request' : ''})`,
    )
    try {
      const current = await store.read()
      if (current === undefined) {
        terminal.error(
          `middy-chaos serve: ${store.description} holds no config yet: no faults until "middy-chaos enable" or an experiment writes one`,
        )
      }
    } catch (error) {
      terminal.error(
        `middy-chaos serve: warning: ${describeError(error)} (the function runs without faults)`,
      )
    }
    const signal = await nextSignal()
    await server.close()
    terminal.error(`middy-chaos serve: stopped (${signal})`)
    return 0
  },
}
