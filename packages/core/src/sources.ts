/**
 * The process-wide registry of config sources: middlewares built with the same
 * store, parameter and cache settings share one {@link ConfigSource}, so a chain
 * of several chaos middlewares fetches once per cache window.
 *
 * @module
 */
import type { Logger } from '@aws-lambda-powertools/logger'
import { withAbortSignal } from './abort.js'
import { getDefaultLogger } from './logger.js'
import {
  ConfigSource,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_AGE_SECONDS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './source.js'
import type { ChaosSourceOptions, ConfigProvider } from './types.js'
import { describeValue, MAX_TIMER_MS, safeLog } from './util.js'

/** Environment variable naming the SSM parameter, as in chaos_lambda. */
export const PARAMETER_ENV = 'CHAOS_PARAM'

/**
 * The cache window a config source uses, in seconds: `maxAge` when given,
 * else `POWERTOOLS_PARAMETERS_MAX_AGE` when it is a number of seconds (0 or
 * more), else {@link DEFAULT_MAX_AGE_SECONDS}, as Powertools reads it.
 *
 * @example
 * ```ts
 * process.env.POWERTOOLS_PARAMETERS_MAX_AGE = '0'
 * resolveMaxAgeSeconds(undefined) // 0: the store is read for every invocation
 * ```
 */
export const resolveMaxAgeSeconds = (maxAge: number | undefined): number => {
  if (maxAge !== undefined) return maxAge
  const fromEnv = Number(process.env.POWERTOOLS_PARAMETERS_MAX_AGE)
  return process.env.POWERTOOLS_PARAMETERS_MAX_AGE !== undefined &&
    Number.isFinite(fromEnv) &&
    fromEnv >= 0
    ? fromEnv
    : DEFAULT_MAX_AGE_SECONDS
}

/** Environment variable choosing the default store: `ssm` (default) or `file`. */
export const STORE_ENV = 'CHAOS_STORE'

/** Built-in stores, selected by the `store` option or `CHAOS_STORE`. */
export type ChaosStore = 'ssm' | 'file'

const defaultProviders = new Map<string, Promise<ConfigProvider>>()
const FILE_PROVIDER_MODULE = ['.', 'file-provider.js'].join('/')

/**
 * The process-wide provider of a built-in store, loaded on first use. The SSM
 * client it uses ends every request at the request bound (connection and
 * request timeouts, one attempt: the source asks again next window), so a
 * store that hangs leaves no request, no socket and nothing that keeps the
 * process alive.
 */
const getDefaultProvider = (
  store: ChaosStore,
  requestTimeoutMs: number,
): Promise<ConfigProvider> => {
  const key = `${store}:${requestTimeoutMs}`
  let provider = defaultProviders.get(key)
  if (!provider) {
    provider =
      store === 'file'
        ? // The file store is for local runs: a specifier bundlers do not follow keeps it out of
          // a function's bundle (it loads from node_modules when the package is installed).
          (import(FILE_PROVIDER_MODULE) as Promise<typeof import('./file-provider.js')>).then(
            ({ FileProvider }) => new FileProvider(),
          )
        : import('./ssm-store.js').then(({ createSSMStore }) =>
            createSSMStore({
              maxAttempts: 1,
              requestHandler: {
                connectionTimeout: requestTimeoutMs,
                requestTimeout: requestTimeoutMs,
                throwOnRequestTimeout: true,
              },
            }),
          )
    defaultProviders.set(key, provider)
  }
  return provider
}

const resolveStore = (store: string | undefined): ChaosStore => {
  const value = (store ?? process.env[STORE_ENV] ?? 'ssm').toLowerCase()
  return value === 'file' ? 'file' : 'ssm'
}

/**
 * A time bound of the options in ms: a number from 0 to {@link MAX_TIMER_MS};
 * anything else is read as the default, with a warning (a timer given
 * `Infinity` or `NaN` would fire at once, failing every fetch).
 */
const timeoutOption = (
  name: string,
  value: unknown,
  fallback: number,
  logger: (() => Logger) | undefined,
): number => {
  if (value === undefined) return fallback
  if (typeof value === 'number' && value >= 0 && value <= MAX_TIMER_MS) return value
  safeLog(logger ?? getDefaultLogger, 'warn', `Chaos option ${name} ignored; the default is used`, {
    problem: `${name} must be a number of ms from 0 to ${MAX_TIMER_MS} (got ${describeValue(value)})`,
    default: fallback,
  })
  return fallback
}

const sharedSources = new Map<string, ConfigSource>()
const providerSources = new WeakMap<object, Map<string, ConfigSource>>()
const staticSources = new WeakMap<object, ConfigSource>()
const staticTextSources = new Map<string, ConfigSource>()
let noSource: ConfigSource | undefined

/**
 * The config source for a set of options. Middlewares built with the same
 * provider, parameter name and cache settings share one source, so a chain of
 * several chaos middlewares fetches once per cache window.
 *
 * @example
 * ```ts
 * const source = getConfigSource({ parameterName: '/chaos/config', maxAge: 10 })
 * const snapshot = await source.refresh()
 * ```
 */
export const getConfigSource = (options: ChaosSourceOptions = {}): ConfigSource => {
  const logger = options.logger ? () => options.logger as Logger : undefined
  const fetchTimeoutMs = timeoutOption(
    'fetchTimeout',
    options.fetchTimeout,
    DEFAULT_FETCH_TIMEOUT_MS,
    logger,
  )
  const requestTimeoutMs = Math.max(
    fetchTimeoutMs,
    timeoutOption('requestTimeout', options.requestTimeout, DEFAULT_REQUEST_TIMEOUT_MS, logger),
  )
  if (options.config !== undefined) {
    const config = options.config
    const create = () =>
      new ConfigSource({
        description: 'static',
        load: async () => config,
        maxAgeSeconds: Number.POSITIVE_INFINITY,
        fetchTimeoutMs,
        ...(logger ? { logger } : {}),
      })
    if (typeof config === 'string') {
      let source = staticTextSources.get(config)
      if (!source) {
        source = create()
        staticTextSources.set(config, source)
      }
      return source
    }
    if (typeof config !== 'object' || config === null) return create()
    let source = staticSources.get(config)
    if (!source) {
      source = create()
      staticSources.set(config, source)
    }
    return source
  }

  const name = options.parameterName ?? process.env[PARAMETER_ENV]
  const maxAgeSeconds = resolveMaxAgeSeconds(options.maxAge)
  const provider = options.provider
  if (name === undefined || name === '') {
    noSource ??= new ConfigSource({
      description: 'none',
      load: async () => {
        throw new Error(
          `no config source: set the ${PARAMETER_ENV} environment variable or the parameterName option`,
        )
      },
      maxAgeSeconds: Number.POSITIVE_INFINITY,
      fetchTimeoutMs,
      ...(logger ? { logger } : {}),
    })
    return noSource
  }

  const store = resolveStore(options.store)
  const key = `${store}\u0000${name}\u0000${maxAgeSeconds}\u0000${fetchTimeoutMs}\u0000${requestTimeoutMs}\u0000${JSON.stringify(options.providerOptions ?? {})}`
  let registry = sharedSources
  if (provider) {
    registry = providerSources.get(provider) ?? new Map()
    providerSources.set(provider, registry)
  }
  let source = registry.get(key)
  if (!source) {
    // This source is the cache: the provider is asked only when the window has passed.
    const getOptions = { maxAge: maxAgeSeconds, forceFetch: true, ...options.providerOptions }
    source = new ConfigSource({
      description: `${provider ? (provider.constructor?.name ?? 'provider') : store}:${name}`,
      load: async (signal) => {
        const reader = provider ?? (await getDefaultProvider(store, requestTimeoutMs))
        return withAbortSignal(reader, signal, () => reader.get(name, getOptions))
      },
      maxAgeSeconds,
      fetchTimeoutMs,
      requestTimeoutMs,
      ...(logger ? { logger } : {}),
    })
    registry.set(key, source)
  }
  return source
}

/** Drops every shared source and the default provider (for tests). */
export const resetConfigSources = (): void => {
  sharedSources.clear()
  staticTextSources.clear()
  noSource = undefined
  defaultProviders.clear()
}
