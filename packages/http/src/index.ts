import type { MiddlewareObj } from '@middy/core'
import {
  activateInScope,
  type ChaosEntryFields,
  type ChaosJsonValue,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  currentScope,
  describeValue,
  type FaultDefinition,
  type FaultTrace,
  globMatches,
  type InvocationScope,
  isRecord,
  withinDeadline,
} from '@middy-chaos/core'
import { type Decide, install, type Outcome, uninstall } from './intercept.js'

export { installed as interceptorsInstalled } from './intercept.js'

/** The outcomes an HTTP fault can give an affected request (none: only `delay`). */
export const HTTP_FAULTS = ['refused', 'reset', 'dns', 'timeout', 'status'] as const

export type HttpFaultKind = (typeof HTTP_FAULTS)[number]

/** Parameters of an outbound HTTP fault, as read from the config. */
export interface HttpParams {
  /** Host patterns (lower case): `api.example.com`, `.amazonaws.com`, `*.s3.*.amazonaws.com`. */
  hosts: string[]
  /** What an affected request gets; only `delay` when absent. */
  fault?: HttpFaultKind
  /** ms before the outcome; for `timeout`, how long the request hangs (default 10000). */
  delay: number
  /** The answer's status, for `status`. */
  statusCode?: number
  /** The answer's body, for `status`. */
  body?: string
  /** The answer's headers, for `status`. */
  headers?: Record<string, string>
}

/**
 * An `http` entry of a middy-chaos document, as written.
 *
 * @example
 * ```ts
 * const entry: HttpEntry = { type: 'http', hosts: ['api.partner.com'], fault: 'timeout', rate: 0.1 }
 * ```
 */
export interface HttpEntry extends ChaosEntryFields {
  readonly type: 'http' | 'outbound_http'
  /** Host patterns: a list, or one comma-separated string. */
  readonly hosts: string | readonly string[]
  /** What an affected request gets; only `delay` when absent. */
  readonly fault?: HttpFaultKind
  /** ms before the outcome. */
  readonly delay?: number
  /** Status of the answer (implies `fault: "status"`). */
  readonly statusCode?: number
  /** Body of the answer: a string or a JSON value. */
  readonly body?: ChaosJsonValue
  /** Headers of the answer. */
  readonly headers?: Readonly<Record<string, string>>
  readonly phase?: 'before'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    http: HttpEntry
  }
}

/** Options of {@link chaosHttp}. */
export interface ChaosHttpOptions extends ChaosMiddlewareOptions {
  /**
   * Time kept free before the Lambda deadline, in ms (default 100): a
   * `timeout` without a `delay` hangs at most until then.
   */
  deadlineMargin?: number
}

const TYPE = 'http'
/** undici's connect timeout, what a `fetch` to a host that never answers waits by default. */
const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_BODY = JSON.stringify({ message: 'Injected fault' })
const MAX_HOSTS = 50
const MAX_HOST_LENGTH = 253
const HOST_PATTERN = /^[a-z0-9.*?:_-]+$/

// ---------------------------------------------------------------------------
// Host patterns: exact, suffix, glob (core's). No regular expression from the config.

/**
 * Whether a host matches a pattern: `api.example.com` that host exactly;
 * `.example.com` any host under it (not `example.com` itself);
 * `*.s3.*.amazonaws.com` a glob (`*` any characters, dots included; `?` one).
 * Hosts compare in lower case.
 *
 * @example
 * ```ts
 * hostMatches('.amazonaws.com', 'dynamodb.us-east-1.amazonaws.com') // true
 * hostMatches('*.s3.*.amazonaws.com', 'bucket.s3.eu-west-1.amazonaws.com') // true
 * ```
 */
export const hostMatches = (pattern: string, host: string): boolean => {
  const name = host.toLowerCase()
  if (pattern.includes('*') || pattern.includes('?')) return globMatches(pattern, name)
  return pattern.startsWith('.') ? name.endsWith(pattern) : name === pattern
}

/**
 * failure-lambda's host patterns are regular expressions tested anywhere in
 * the host name (`s3.*.amazonaws.com`). Those made only of literal text, `.`,
 * `.*`, `.+`, `\.` and the anchors `^` / `$` translate exactly into a glob
 * (`.` → `?`, `.*` → `*`, unanchored ends → `*`); any other is not run, and
 * `undefined` says so.
 */
export const globFromRegex = (regex: string): string | undefined => {
  if (regex.length === 0 || regex.length > MAX_HOST_LENGTH) return undefined
  let body = regex
  const start = body.startsWith('^')
  if (start) body = body.slice(1)
  const end = body.endsWith('$') && !body.endsWith('\\$')
  if (end) body = body.slice(0, -1)
  let out = ''
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] as string
    const next = body[i + 1]
    if (char === '\\') {
      if (next === undefined || !/^[.\-_:]$/.test(next)) return undefined
      out += next
      i += 1
    } else if (char === '.') {
      if (next === '*' || next === '+') i += 1
      out += next === '*' ? '*' : next === '+' ? '?*' : '?'
    } else if (/^[A-Za-z0-9_:-]$/.test(char)) {
      out += char.toLowerCase()
    } else {
      return undefined
    }
  }
  const pattern = `${start ? '' : '*'}${out}${end ? '' : '*'}`.replace(/\*+/g, '*')
  return pattern.length <= MAX_HOST_LENGTH ? pattern : undefined
}

// ---------------------------------------------------------------------------
// The invocations holding an HTTP fault, and what their requests get

interface HttpState {
  readonly params: HttpParams
  /** The invocation's trace: each affected request is marked, each delay is its own subsegment / span. */
  readonly trace: FaultTrace
  scope?: InvocationScope
  readonly timeoutMs: number
  affected: number
}

/** States of the invocations whose HTTP fault is on: the interceptors are installed while it is not empty. */
const live = new Set<HttpState>()

const sweep = (): void => {
  for (const state of live) if (state.scope?.active !== true) live.delete(state)
  if (live.size === 0) uninstall()
}

/** The Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`) is never affected: the runtime itself talks to it. */
const isRuntimeApi = (host: string, port: number): boolean =>
  process.env.AWS_LAMBDA_RUNTIME_API === `${host}:${port}`

const decide: Decide = ({ host, port, traceHeader }) => {
  const state = currentScope()?.fault<HttpState>(TYPE)
  if (state === undefined) {
    if (live.size > 0) sweep()
    return undefined
  }
  const { params } = state
  if (isRuntimeApi(host, port) || !params.hosts.some((pattern) => hostMatches(pattern, host)))
    return undefined
  state.affected += 1
  const delay = params.fault === 'timeout' && params.delay === 0 ? state.timeoutMs : params.delay
  const call = { traceHeader }
  state.trace.call({ host, port }, call)
  const outcome: Outcome = {
    delay,
    ...(delay > 0 ? { delayEnded: state.trace.startDelay(delay, call) } : {}),
    ...(params.fault === undefined ? {} : { fault: params.fault }),
    ...(params.fault === 'status'
      ? {
          statusCode: params.statusCode ?? 503,
          body: params.body ?? DEFAULT_BODY,
          ...(params.headers === undefined ? {} : { headers: params.headers }),
        }
      : {}),
  }
  return outcome
}

// ---------------------------------------------------------------------------
// The fault

const failureLambdaPatterns = (
  patterns: unknown,
  key: string,
  note: (text: string) => void,
): string[] => {
  const hosts: string[] = []
  for (const pattern of Array.isArray(patterns) ? patterns : []) {
    const translated = typeof pattern === 'string' ? globFromRegex(pattern) : undefined
    if (translated === undefined)
      note(
        `denylist: dropped the ${key} pattern ${describeValue(pattern)}: middy-chaos runs no regular expression from a config, and only literal text, ".", ".*", ".+", "\\." and the anchors translate`,
      )
    else hosts.push(translated)
  }
  return hosts
}

/**
 * The outbound HTTP fault: while an invocation's fault fires, the requests it
 * makes through `fetch`, `node:http` and `node:https` to hosts matching
 * `hosts` are delayed by `delay` ms and/or fail: connection refused, reset,
 * DNS failure, timeout, or an HTTP status with a body.
 */
export const httpFault: FaultDefinition<HttpParams, ChaosHttpOptions> = {
  type: TYPE,
  aliases: ['outbound_http'],
  package: '@middy-chaos/http',
  factory: 'chaosHttp',
  summary:
    'makes the outbound HTTP requests of the invocation (fetch, http, https) slow or failing, per host',
  phases: ['before'],
  defaultPhase: 'before',
  scope: 'calls',
  defaults: { deadlineMargin: 100 },
  parse(fields) {
    // An array; or one string, comma-separated, as `middy-chaos enable http --hosts a,b` writes it.
    const given = fields.raw('hosts')
    const raw = typeof given === 'string' ? given.split(',') : given
    if (raw === undefined)
      return fields.issue(
        'hosts',
        'is required: host patterns such as "api.example.com", ".amazonaws.com", "*.s3.*.amazonaws.com"',
      )
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_HOSTS)
      return fields.issue(
        'hosts',
        `must be an array of 1 to ${MAX_HOSTS} host patterns (got ${Array.isArray(raw) ? `${raw.length} patterns` : describeValue(raw)})`,
      )
    const hosts: string[] = []
    for (const [index, pattern] of raw.entries()) {
      const host = typeof pattern === 'string' ? pattern.trim().toLowerCase() : undefined
      if (
        host === undefined ||
        host.length === 0 ||
        host.length > MAX_HOST_LENGTH ||
        !HOST_PATTERN.test(host)
      )
        return fields.issue(
          `hosts[${index}]`,
          `must be a host pattern of letters, digits, ".", "-", "*", "?" (got ${describeValue(pattern)})`,
        )
      hosts.push(host)
    }
    const explicit = fields.oneOf('fault', HTTP_FAULTS)
    if (fields.has('fault') && explicit === undefined) return undefined
    const statusCode = fields.number('statusCode', { min: 200, max: 599, integer: true })
    const fault = explicit ?? (fields.has('statusCode') ? 'status' : undefined)
    const delay = fields.number('delay', {
      min: 0,
      max: 900_000,
      integer: true,
      unit: 'ms',
      default: 0,
    })
    let body = fields.raw('body')
    if (body !== undefined && typeof body !== 'string') {
      try {
        body = JSON.stringify(body)
      } catch {
        return fields.issue('body', 'must be a string or a JSON value')
      }
    }
    if (typeof body === 'string' && body.length > 65_536)
      return fields.issue('body', `must be at most 65536 characters (got ${body.length})`)
    const headers = fields.headers('headers')
    for (const name of ['statusCode', 'body', 'headers']) {
      if (fields.has(name) && fault !== 'status')
        return fields.issue(name, `applies to "fault": "status" (got "fault": "${fault}")`)
    }
    if (fault === undefined && !fields.has('delay'))
      return fields.issue(
        'fault',
        `is required unless a delay is given: one of ${HTTP_FAULTS.map((kind) => `"${kind}"`).join(', ')}`,
      )
    if (
      delay === undefined ||
      (fields.has('statusCode') && statusCode === undefined) ||
      (fields.has('headers') && headers === undefined)
    )
      return undefined
    return {
      hosts,
      delay,
      ...(fault === undefined ? {} : { fault }),
      ...(fault === 'status' ? { statusCode: statusCode ?? 503 } : {}),
      ...(typeof body === 'string' ? { body } : {}),
      ...(headers === undefined ? {} : { headers }),
    }
  },
  plan({ params, request, options, logger, trace }) {
    const timeoutMs = withinDeadline(DEFAULT_TIMEOUT_MS, request.context, options.deadlineMargin)
    return {
      details: params.fault === 'timeout' && params.delay === 0 ? { hangMs: timeoutMs } : {},
      run: () => {
        const state: HttpState = { params, trace, timeoutMs, affected: 0 }
        const scope = activateInScope(request, TYPE, state, () => {
          live.delete(state)
          if (live.size === 0) uninstall()
          logger.info('Chaos fault ended', {
            chaos: { faultType: TYPE, affectedRequests: state.affected },
            awsRequestId: request.context?.awsRequestId,
          })
        })
        if (scope === undefined) return
        state.scope = scope
        live.add(state)
        install(decide)
      },
    }
  },
  describe: ({ hosts, fault, delay, statusCode }) => {
    const effects = [
      fault === 'status' ? `status ${statusCode}` : fault,
      delay > 0 ? `+${delay}ms` : undefined,
    ]
      .filter(Boolean)
      .join(' ')
    return `http ${hosts.join(', ')}: ${effects}`
  },
  formats: {
    failureLambda: {
      mode: 'denylist',
      check(flag) {
        const patterns = flag.deny_list
        return patterns === undefined ||
          (Array.isArray(patterns) && patterns.every((item) => typeof item === 'string'))
          ? []
          : [`deny_list must be an array of strings (got ${describeValue(patterns)})`]
      },
      fields(flag, { version, note }) {
        // 1.x replaces dns.lookup (a matching host fails with ENOTFOUND); 0.x (mitm) ends the
        // connection of a matching host: the client sees a reset.
        const key =
          version === 1 ? 'deny_list' : flag.failureMode === 'blacklist' ? 'blacklist' : 'denylist'
        const patterns = isRecord(flag) ? flag[key] : undefined
        if (!Array.isArray(patterns) || patterns.length === 0) {
          note(`denylist: no ${key} pattern, so failure-lambda blocks nothing; the entry is off`)
          return { enabled: false }
        }
        if (version === 1)
          return { hosts: failureLambdaPatterns(patterns, key, note), fault: 'dns' }
        note(
          `denylist: failure-lambda 0.x ends the connection (mitm), read as "fault": "reset"; 1.x fails DNS ("dns")`,
        )
        return { hosts: failureLambdaPatterns(patterns, key, note), fault: 'reset' }
      },
    },
  },
  flags: [
    {
      name: 'hosts',
      field: 'hosts',
      type: 'string',
      description:
        'host patterns, comma-separated: api.example.com,.amazonaws.com,*.s3.*.amazonaws.com',
    },
    {
      name: 'fault',
      field: 'fault',
      type: 'string',
      description: 'refused, reset, dns, timeout or status',
      default: 'refused',
    },
    { name: 'delay', field: 'delay', type: 'integer', description: 'ms before the outcome' },
    {
      name: 'status-code',
      field: 'statusCode',
      type: 'integer',
      description: 'status of the answer, with --fault status',
    },
  ],
}

/**
 * Makes the outbound HTTP requests of an invocation slow or failing while the
 * chaos config has an `http` fault: a partner API that refuses connections,
 * resets them, cannot be resolved, never answers, or answers 503; through
 * `fetch`, `node:http`, `node:https` and the clients built on them (the AWS
 * SDK's Node.js HTTP handler included). Nothing is patched unless a fault
 * fires, and what is patched is restored when the invocation ends, however it
 * ends.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosHttp } from '@middy-chaos/http'
 *
 * export const handler = middy(lambdaHandler).use(chaosHttp())
 * // {"version":1,"faults":[{"type":"http","hosts":["api.partner.com"],"fault":"timeout","rate":0.1}]}
 * ```
 */
export const chaosHttp = (options: ChaosHttpOptions = {}): MiddlewareObj =>
  createFaultMiddleware(httpFault, options)
