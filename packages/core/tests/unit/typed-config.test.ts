/**
 * The typed config and strict mode. `pnpm typecheck` compiles this file: each
 * `@ts-expect-error` below must be a compile error, or the typecheck fails
 * (`test/docs/typed-config.test.ts` checks, in a program of its own, that the
 * error is the one the comment names). Strict mode throws, in a
 * test, what a store's value only ever logs.
 */
import middy from '@middy/core'
import { describe, expect, it } from 'vitest'
import {
  helloWorld,
  makeContext,
  restApiEvent,
  useCapturedLogs,
} from '../../../../test/helpers/index.js'
import { chaosLatency, latencyFault } from '../../../latency/src/index.js'
import { chaosStatusCode, statusCodeFault } from '../../../status-code/src/index.js'
import {
  type ChaosConfig,
  ChaosConfigError,
  type ChaosConfigInput,
  type ChaosLambdaConfig,
  type ChaosMatchCondition,
  type FailureLambdaConfig,
  parseConfig,
} from '../../src/index.js'

const faults = [latencyFault, statusCodeFault]
const hello = { statusCode: 200, body: 'Hello from Lambda!' }

describe('the typed config', () => {
  const logs = useCapturedLogs()

  it('takes every accepted format as written: middy-chaos, chaos_lambda, failure-lambda, JSON text', () => {
    const middyChaos: ChaosConfig = {
      version: 1,
      expiresAt: '2026-12-01T12:00:00Z',
      faults: [
        { type: 'latency', delay: { min: 100, max: 300 }, rate: 0.5, seed: 7 },
        {
          type: 'status_code',
          statusCode: 503,
          preventExecution: true,
          body: { message: 'Service Unavailable' },
          match: [{ path: 'rawPath', prefix: '/checkout' }],
          budget: { max: 5, windowMs: 60_000 },
        },
      ],
    }
    const chaosLambda: ChaosLambdaConfig = {
      is_enabled: true,
      fault_type: 'status_code',
      error_code: 404,
      rate: 1,
      duration: '15m',
    }
    const failureLambda: FailureLambdaConfig = {
      latency: { enabled: true, percentage: 50, min_latency: 100, max_latency: 400 },
    }
    const all: ChaosConfigInput[] = [
      middyChaos,
      chaosLambda,
      failureLambda,
      { isEnabled: true, failureMode: 'statuscode', rate: 1, statusCode: 404 },
      JSON.stringify(middyChaos),
    ]
    for (const config of all) expect(parseConfig(config, { faults }).issues).toEqual([])
  })

  it('makes a misspelled field of an entry a compile error; at run time it is only a warning', async () => {
    const handler = middy(helloWorld).use(
      chaosStatusCode({
        // @ts-expect-error: `status` is not a field of a status_code entry (`statusCode` is)
        config: { version: 1, faults: [{ type: 'status_code', status: 503 }] },
      }),
    )

    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      'faults[0].statusCode: is required: an HTTP status from 100 to 599',
    ])
  })

  it('rejects what a document written in code cannot mean, in parseConfig too', () => {
    const rejected = [
      // @ts-expect-error: `rat` is not a field every entry shares (`rate` is)
      parseConfig({ faults: [{ type: 'latency', delay: 400, rat: 0.5 }] }, { faults }),
      // @ts-expect-error: a delay is a number of ms or { min, max }, not text
      parseConfig({ faults: [{ type: 'latency', delay: '400ms' }] }, { faults }),
      // @ts-expect-error: 2 is not a version of the format
      parseConfig({ version: 2, faults: [] }, { faults }),
      // @ts-expect-error: chaos_lambda fires only with is_enabled true and a fault_type
      parseConfig({ is_enabled: true, delay: 400 }, { faults }),
    ]
    // @ts-expect-error: a condition has exactly one of equals, oneOf, prefix, exists
    const both: ChaosMatchCondition = { path: 'rawPath', equals: '/', prefix: '/api' }
    rejected.push(
      parseConfig({ faults: [{ type: 'latency', delay: 1, match: [both] }] }, { faults }),
    )

    // At run time, the version, the missing fault_type and the condition are issues; the delay is
    // the latency middleware's to check (a warning when it reads the entry); `rat` is an unknown
    // field, ignored: the compiler is what catches it.
    expect(rejected.map((result) => result.issues.map((issue) => issue.path))).toEqual([
      [],
      [],
      ['version'],
      ['fault_type'],
      ['faults[0].match[0]'],
    ])
  })

  it('leaves a value whose type says nothing (what a store returned) to the run-time checks', () => {
    const fromStore: unknown = JSON.parse('{"version":1,"faults":[{"type":"latency","delay":-5}]}')
    expect(parseConfig(fromStore, { faults }).issues).toEqual([])
    expect(parseConfig('{"version":3}', { faults }).issues[0]?.path).toBe('version')
  })
})

describe('strict mode', () => {
  const logs = useCapturedLogs()

  /** The first invocation of one middleware with this config, its error if it throws. */
  const firstInvocation = async (options: Parameters<typeof chaosStatusCode>[0]) => {
    const handler = middy(helloWorld).use(chaosStatusCode(options))
    try {
      await handler(restApiEvent(), makeContext())
    } catch (error) {
      return error
    }
    return undefined
  }

  it('throws a ChaosConfigError naming the issue of the fault’s own fields at the first invocation', async () => {
    const error = await firstInvocation({
      strict: true,
      // @ts-expect-error: the same misspelled field; strict mode also catches it when the config is untyped
      config: { version: 1, faults: [{ type: 'status_code', status: 503 }] },
    })

    expect(error).toBeInstanceOf(ChaosConfigError)
    expect((error as Error).message).toBe(
      'Invalid chaos configuration: faults[0].statusCode: is required: an HTTP status from 100 to 599',
    )
  })

  it('throws at creation for the document and the fields every fault shares', () => {
    let error: unknown
    try {
      chaosStatusCode({
        strict: true,
        config: {
          version: 1,
          faults: [
            { type: 'latency', delay: 10, rate: 2 },
            { type: 'status_code', statusCode: 503 },
          ],
        },
      })
    } catch (caught) {
      error = caught
    }

    expect(error).toBeInstanceOf(ChaosConfigError)
    expect((error as ChaosConfigError).issues).toEqual([
      { path: 'faults[0].rate', message: 'must be a number from 0 to 1 (got 2)' },
    ])
  })

  it('names every issue of its own entries: their fields and their phase', async () => {
    const error = await firstInvocation({
      strict: true,
      phases: ['after'],
      config: {
        version: 1,
        faults: [
          { type: 'latency', delay: 10 },
          { type: 'status_code', statusCode: 99 },
          { type: 'status_code', statusCode: 503, preventExecution: true },
        ],
      },
    })

    expect(error).toBeInstanceOf(ChaosConfigError)
    expect((error as ChaosConfigError).issues).toEqual([
      { path: 'faults[1].statusCode', message: 'must be an integer from 100 to 599 (got 99)' },
      {
        path: 'faults[2].phase',
        message: '"before" is not a phase this status_code middleware registered (after)',
      },
    ])
  })

  it('reads JSON text and chaos_lambda as it reads the middy-chaos format', async () => {
    const error = await firstInvocation({
      strict: true,
      config: '{"is_enabled":true,"fault_type":"status_code","error_code":600}',
    })

    expect(error).toBeInstanceOf(ChaosConfigError)
    expect((error as Error).message).toContain(
      'error_code: must be an integer from 100 to 599 (got 600)',
    )
  })

  it('creates the middleware of a valid config, which fires as without strict', async () => {
    const config: ChaosConfig = {
      version: 1,
      faults: [
        { type: 'latency', delay: 0 },
        { type: 'status_code', statusCode: 503, preventExecution: true },
      ],
    }
    const handler = middy(helloWorld)
      .use(chaosLatency({ config, strict: true }))
      .use(chaosStatusCode({ config, strict: true }))

    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
    expect(logs.byLevel('warn')).toEqual([])
  })

  it('is never strict about a value read from a store: a warning and an untouched invocation', async () => {
    const provider = {
      get: async () => '{"version":1,"faults":[{"type":"status_code","status":503}]}',
    }
    const handler = middy(helloWorld).use(
      chaosStatusCode({ strict: true, provider, parameterName: '/strict/store' }),
    )

    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      'faults[0].statusCode: is required: an HTTP status from 100 to 599',
    ])
  })

  it('without strict, the same static config is a warning at the first invocation, not an error', async () => {
    const handler = middy(helloWorld).use(
      chaosStatusCode({ config: '{"version":1,"faults":[{"type":"status_code"}]}' }),
    )

    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    expect(logs.byLevel('warn')).toHaveLength(1)
  })
})
