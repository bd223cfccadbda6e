import { type ConfigIssue, type FaultCatalog, parseConfig as parse } from '@middy-chaos/core'
import { exceptionFault } from '@middy-chaos/exception'
import { latencyFault } from '@middy-chaos/latency'
import { statusCodeFault } from '@middy-chaos/status-code'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  fromFailureLambda as convert,
  isFailureLambdaConfig,
  translateRegex,
} from '../../packages/core/src/formats/failure-lambda.js'
import { matches, parseTargeting } from '../../packages/core/src/match.js'
import { V0_SSM_PARAMETER, V1_CONFIGURATION } from './failure-lambda.fixtures.js'

/** The faults failure-lambda's latency, statuscode and exception modes map onto. */
const WORKSHOP: FaultCatalog = [latencyFault, statusCodeFault, exceptionFault]
const fromFailureLambda = (raw: Record<string, unknown>) => convert(raw, WORKSHOP)
const parseConfig = (raw: unknown) => parse(raw, { faults: WORKSHOP })

/*
 * Fixtures copied from failure-lambda's READMEs (github.com/gunnargrosch/failure-lambda):
 * - V1_*: README.md of 1.x (sections "Create the SSM parameter", "Failure Modes",
 *   "Configuration", "Event-Based Targeting", "Match Operators", "Custom Config
 *   Provider", "Config Validation", "Resolving Active Failures", "Config Migration").
 * - V0_*: README.md of 0.4.x ("Create a parameter in SSM Parameter Store", and the
 *   "Config Migration" old format of the 1.x README); V0_1_PARAMETER from 0.1.x.
 */
const V1_SSM_PARAMETER = {
  latency: { enabled: false, min_latency: 100, max_latency: 400 },
  exception: { enabled: false, exception_msg: 'Exception message!' },
  statuscode: { enabled: false, status_code: 404 },
  diskspace: { enabled: false, disk_space: 100 },
  denylist: { enabled: false, deny_list: ['s3.*.amazonaws.com', 'dynamodb.*.amazonaws.com'] },
  timeout: { enabled: false, timeout_buffer_ms: 500 },
  corruption: { enabled: false, body: '{"error": "corrupted"}' },
}
const V1_MINIMAL = { latency: { enabled: true, min_latency: 200, max_latency: 500 } }
const V1_TARGETING = {
  corruption: {
    enabled: true,
    percentage: 30,
    body: '{"error": "corrupted"}',
    match: [
      { path: 'requestContext.http.method', value: 'GET' },
      { path: 'requestContext.stage', value: 'prod' },
    ],
  },
}
const V1_OPERATORS = {
  latency: {
    enabled: true,
    percentage: 100,
    min_latency: 200,
    max_latency: 500,
    match: [
      { path: 'requestContext.http.path', operator: 'startsWith', value: '/api' },
      { path: 'headers.x-debug', operator: 'exists' },
      { path: 'requestContext.http.method', operator: 'regex', value: '^(GET|HEAD)$' },
    ],
  },
}
const V1_CUSTOM_PROVIDER = {
  latency: { enabled: true, percentage: 50, min_latency: 200, max_latency: 500 },
  exception: { enabled: false },
}
const V1_VALIDATION = { latency: { enabled: true, percentage: 150 } }
const V1_RESOLVING = {
  latency: { enabled: true, percentage: 50, min_latency: 100, max_latency: 400 },
  exception: { enabled: false },
  denylist: { enabled: true, deny_list: ['s3.*.amazonaws.com'] },
}
const V1_MIGRATION = {
  latency: { enabled: true, percentage: 100, min_latency: 100, max_latency: 400 },
}
const V0_MIGRATION = {
  isEnabled: true,
  failureMode: 'latency',
  rate: 1,
  minLatency: 100,
  maxLatency: 400,
}
const V0_1_PARAMETER = {
  isEnabled: false,
  failureMode: 'latency',
  rate: 1,
  minLatency: 100,
  maxLatency: 400,
  exceptionMsg: 'Exception message!',
  statusCode: 404,
  diskSpace: 100,
}
/** The 0.x README's parameter as its "Usage" section says to edit it: enabled, one mode. */
const v0 = (overrides: Record<string, unknown>) => ({
  ...V0_SSM_PARAMETER,
  isEnabled: true,
  ...overrides,
})

const doc = (faults: unknown[], enabled = true) => ({ version: 1, enabled, faults })

describe('isFailureLambdaConfig', () => {
  it('recognises every README example', () => {
    for (const example of [
      V1_SSM_PARAMETER,
      V1_MINIMAL,
      V1_CONFIGURATION,
      V1_TARGETING,
      V1_OPERATORS,
      V1_CUSTOM_PROVIDER,
      V1_VALIDATION,
      V1_RESOLVING,
      V1_MIGRATION,
      V0_MIGRATION,
      V0_SSM_PARAMETER,
      V0_1_PARAMETER,
    ])
      expect(isFailureLambdaConfig(example)).toBe(true)
  })

  it('does not take chaos_lambda or middy-chaos documents', () => {
    expect(
      isFailureLambdaConfig({
        is_enabled: true,
        fault_type: 'latency',
        delay: 400,
        error_code: 404,
        exception_msg: 'Fault injected by chaos-lambda',
        rate: 1,
      }),
    ).toBe(false)
    expect(isFailureLambdaConfig({ is_enabled: false })).toBe(false)
    expect(isFailureLambdaConfig({ version: 1, faults: [{ type: 'latency', delay: 400 }] })).toBe(
      false,
    )
    expect(isFailureLambdaConfig({ faults: [], latency: { enabled: true } })).toBe(false)
    expect(isFailureLambdaConfig({ version: 1, latency: { enabled: true } })).toBe(false)
  })

  it('maps a document that is not failure-lambda to a disabled one', () => {
    expect(fromFailureLambda({ is_enabled: true, fault_type: 'latency', delay: 400 })).toEqual({
      format: 'failure-lambda-1',
      document: doc([], false),
      notes: ['not a failure-lambda configuration (got an object)'],
    })
  })

  it('does not take other objects, and never throws', () => {
    expect(isFailureLambdaConfig({})).toBe(false)
    expect(isFailureLambdaConfig({ latency: 400 })).toBe(false)
    expect(isFailureLambdaConfig({ denylist: ['x'] })).toBe(false)
    expect(isFailureLambdaConfig(JSON.parse('{"__proto__": {"isEnabled": true}}'))).toBe(false)
    expect(isFailureLambdaConfig(Object.create({ isEnabled: true }))).toBe(false)
    fc.assert(
      fc.property(fc.anything(), (value) => {
        isFailureLambdaConfig(value as Record<string, unknown>)
        fromFailureLambda(value as Record<string, unknown>)
        return true
      }),
    )
  })
})

describe('fromFailureLambda: 1.x README examples', () => {
  it('maps the all-disabled SSM parameter to an enabled document with no faults', () => {
    expect(fromFailureLambda(V1_SSM_PARAMETER)).toEqual({
      format: 'failure-lambda-1',
      document: doc([]),
      notes: [],
    })
    expect(fromFailureLambda(V1_CONFIGURATION)).toEqual({
      format: 'failure-lambda-1',
      document: doc([]),
      notes: [],
    })
  })

  it('maps the minimal latency flag: rate 1, a delay from min to max - 1, before the handler', () => {
    expect(fromFailureLambda(V1_MINIMAL)).toEqual({
      format: 'failure-lambda-1',
      document: doc([{ type: 'latency', rate: 1, phase: 'before', delay: { min: 200, max: 499 } }]),
      notes: [],
    })
  })

  it('drops the corruption example with a note', () => {
    expect(fromFailureLambda(V1_TARGETING)).toEqual({
      format: 'failure-lambda-1',
      document: doc([]),
      notes: ['corruption: dropped: no middleware of this function handles it'],
    })
  })

  it('maps the match operators example: startsWith, exists and an anchored regex', () => {
    expect(fromFailureLambda(V1_OPERATORS)).toEqual({
      format: 'failure-lambda-1',
      document: doc([
        {
          type: 'latency',
          rate: 1,
          phase: 'before',
          delay: { min: 200, max: 499 },
          match: [
            { path: 'requestContext.http.path', prefix: '/api' },
            { path: 'headers.x-debug', exists: true },
            { path: 'requestContext.http.method', oneOf: ['GET', 'HEAD'] },
          ],
        },
      ]),
      notes: [],
    })
  })

  it('maps percentage to rate (custom config provider example)', () => {
    expect(fromFailureLambda(V1_CUSTOM_PROVIDER).document).toEqual(
      doc([{ type: 'latency', rate: 0.5, phase: 'before', delay: { min: 200, max: 499 } }]),
    )
  })

  it('skips an invalid flag as failure-lambda does (config validation example)', () => {
    expect(fromFailureLambda(V1_VALIDATION)).toEqual({
      format: 'failure-lambda-1',
      document: doc([]),
      notes: [
        'latency: skipped, as failure-lambda skips an invalid flag: percentage must be an integer from 0 to 100 (got 150)',
      ],
    })
  })

  it('keeps latency and drops denylist (resolving active failures example)', () => {
    expect(fromFailureLambda(V1_RESOLVING)).toEqual({
      format: 'failure-lambda-1',
      document: doc([
        { type: 'latency', rate: 0.5, phase: 'before', delay: { min: 100, max: 399 } },
      ]),
      notes: ['denylist: dropped: no middleware of this function handles it'],
    })
  })

  it('maps the old and new formats of the migration example to the same fault', () => {
    const next = fromFailureLambda(V1_MIGRATION)
    const old = fromFailureLambda(V0_MIGRATION)
    expect(next.format).toBe('failure-lambda-1')
    expect(old.format).toBe('failure-lambda-0')
    expect(old.document).toEqual(next.document)
    expect(next.document).toEqual(
      doc([{ type: 'latency', rate: 1, phase: 'before', delay: { min: 100, max: 399 } }]),
    )
  })

  it('maps status code and exception with their defaults, in failure-lambda order', () => {
    const { document, notes } = fromFailureLambda({
      exception: { enabled: true },
      statuscode: { enabled: true, percentage: 25 },
      latency: { enabled: true },
    })
    expect(notes).toEqual([])
    expect(document).toEqual(
      doc([
        { type: 'latency', rate: 1, phase: 'before', delay: 0 },
        { type: 'status_code', rate: 0.25, statusCode: 500, preventExecution: true },
        { type: 'exception', rate: 1, phase: 'before', message: 'Injected exception' },
      ]),
    )
  })

  it('drops a flag whose regex is not an anchored literal, rather than widening it', () => {
    const { document, notes } = fromFailureLambda({
      exception: {
        enabled: true,
        match: [{ path: 'rawPath', operator: 'regex', value: '/api/v\\d+/users' }],
      },
    })
    expect(document).toEqual(doc([]))
    expect(notes).toEqual([
      'exception: dropped: exception.match[0]: the regex "/api/v\\\\d+/users" is not an anchored literal such as "^GET$", "^(GET|HEAD)$" or "^/api"; middy-chaos runs no regular expression from a config',
    ])
  })

  it('reads the 1.0 pre-release "rate" spelling with a note', () => {
    const { document, notes } = fromFailureLambda({
      latency: { enabled: true, rate: 0.2, min_latency: 10, max_latency: 10 },
    })
    expect(document).toEqual(doc([{ type: 'latency', rate: 0.2, phase: 'before', delay: 10 }]))
    expect(notes).toHaveLength(1)
  })

  it('produces documents parseConfig reads without issues', () => {
    for (const example of [V1_MINIMAL, V1_OPERATORS, V1_CUSTOM_PROVIDER, V1_RESOLVING]) {
      const { document } = fromFailureLambda(example)
      const parsed = parseConfig(document)
      expect(parsed.issues).toEqual([])
      expect(parsed.document.faults.length).toBe((document.faults as unknown[]).length)
      for (const fault of parsed.document.faults) {
        const issues: ConfigIssue[] = []
        parseTargeting(fault.fields, fault.path, issues)
        expect(issues).toEqual([])
      }
    }
  })
})

describe('fromFailureLambda: 0.x README examples', () => {
  it('maps a disabled parameter to a disabled document', () => {
    for (const example of [V0_SSM_PARAMETER, V0_1_PARAMETER])
      expect(fromFailureLambda(example)).toEqual({
        format: 'failure-lambda-0',
        document: doc([], false),
        notes: [],
      })
  })

  it('maps each failureMode of the README parameter', () => {
    expect(fromFailureLambda(v0({ failureMode: 'latency' })).document).toEqual(
      doc([{ type: 'latency', rate: 1, phase: 'before', delay: { min: 100, max: 399 } }]),
    )
    expect(fromFailureLambda(v0({ failureMode: 'exception' })).document).toEqual(
      doc([{ type: 'exception', rate: 1, phase: 'before', message: 'Exception message!' }]),
    )
    expect(fromFailureLambda(v0({ failureMode: 'statuscode' })).document).toEqual(
      doc([{ type: 'status_code', rate: 1, statusCode: 404, preventExecution: true }]),
    )
    for (const mode of ['diskspace', 'denylist']) {
      expect(fromFailureLambda(v0({ failureMode: mode }))).toEqual({
        format: 'failure-lambda-0',
        document: doc([]),
        notes: [`failureMode: dropped: no middleware of this function handles ${mode}`],
      })
    }
  })

  it('keeps a fractional rate, and reads a missing one as never injecting', () => {
    expect(fromFailureLambda(v0({ rate: 0.5 })).document).toMatchObject({
      faults: [{ rate: 0.5 }],
    })
    const { rate: _, ...withoutRate } = v0({})
    const missing = fromFailureLambda(withoutRate)
    expect(missing.document).toMatchObject({ faults: [{ rate: 0 }] })
    expect(missing.notes[0]).toMatch(/^rate: missing/)
  })

  it('notes a status code fault without statusCode', () => {
    const { statusCode: _, ...withoutCode } = v0({ failureMode: 'statuscode' })
    const { document, notes } = fromFailureLambda(withoutCode)
    expect(document).toMatchObject({ faults: [{ type: 'status_code', preventExecution: true }] })
    expect(notes[0]).toMatch(/^statusCode: missing/)
  })

  it('notes a failureMode failure-lambda does not know', () => {
    expect(fromFailureLambda(v0({ failureMode: 'Latency' })).notes).toEqual([
      'failureMode: "Latency" is not a failure-lambda mode, so it injects nothing',
    ])
  })

  it('produces documents parseConfig reads without issues', () => {
    for (const mode of ['latency', 'exception', 'statuscode']) {
      const { document } = fromFailureLambda(v0({ failureMode: mode, rate: 0.3 }))
      expect(parseConfig(document).issues).toEqual([])
    }
  })
})

describe('fromFailureLambda: same behaviour', () => {
  /** failure-lambda's delay, src/failures/latency.ts and lib/failure.js: floor(min + random × (max − min)). */
  const failureLambdaDelay = (min: number, max: number, r: number) =>
    Math.floor(min + r * (max - min))
  /** middy-chaos's delay, packages/latency/src/index.ts: min + floor(random × (max − min + 1)). */
  const middyChaosDelay = (delay: number | { min: number; max: number }, r: number) =>
    typeof delay === 'number' ? delay : delay.min + Math.floor(r * (delay.max - delay.min + 1))

  it('waits the same delay for the same random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        // Draws k / 2^20: exact products. (For r within 1e-16 of 1, failure-lambda's
        // float sum can round up to max itself: a 1-in-10^16 difference.)
        fc.integer({ min: 0, max: 2 ** 20 - 1 }).map((k) => k / 2 ** 20),
        (a, b, r) => {
          const [min, max] = a <= b ? [a, b] : [b, a]
          const { document } = fromFailureLambda({
            latency: { enabled: true, min_latency: min, max_latency: max },
          })
          const fault = (document.faults as { delay: number | { min: number; max: number } }[])[0]
          return (
            fault !== undefined &&
            middyChaosDelay(fault.delay, r) === failureLambdaDelay(min, max, r)
          )
        },
      ),
    )
  })

  /** failure-lambda's matching (src/matching.ts, layer/proxy/src/failures.rs), for JSON primitives. */
  const failureLambdaMatches = (
    event: Record<string, unknown>,
    conditions: { path: string; operator?: string; value?: string }[],
  ) =>
    conditions.every(({ path, operator = 'eq', value = '' }) => {
      let actual: unknown = event
      for (const part of path.split('.')) {
        if (actual === null || typeof actual !== 'object') return false
        actual = Object.hasOwn(actual, part) ? (actual as Record<string, unknown>)[part] : undefined
      }
      if (actual === null || actual === undefined) return false
      const text = String(actual)
      if (operator === 'exists') return true
      if (operator === 'startsWith') return text.startsWith(value)
      if (operator === 'regex') return new RegExp(value).test(text)
      return text === value
    })

  const leaf = fc.oneof(
    fc.constantFrom('GET', 'HEAD', 'POST', '/api/orders', '/health', '200', 'true', '', 'prod'),
    fc.constantFrom(200, 404, 1.5, 0, true, false, null),
    fc.constant(undefined),
  )
  const conditionArb = fc.record({
    path: fc.constantFrom('a', 'b.c', 'b.d'),
    operator: fc.constantFrom(undefined, 'eq', 'exists', 'startsWith', 'regex'),
    value: fc.constantFrom('GET', 'HEAD', '200', 'true', '/api', '1.5', 'prod'),
  })
  const regexFor = fc.constantFrom('^(GET|HEAD)$', '^/api', '^200$', '^true$', '^(?:prod|GET)$')

  it('targets the same invocations, for every translatable condition', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(conditionArb, regexFor), { minLength: 1, maxLength: 3 }),
        leaf,
        leaf,
        leaf,
        (pairs, a, c, d) => {
          const conditions = pairs.map(([condition, regex]) => {
            const out: { path: string; operator?: string; value?: string } = {
              path: condition.path,
              value: condition.operator === 'regex' ? regex : condition.value,
            }
            if (condition.operator !== undefined) out.operator = condition.operator
            return out
          })
          const event = { a, b: { c, d } }
          // Documented difference: a prefix compares strings only.
          const values: Record<string, unknown> = { a, 'b.c': c, 'b.d': d }
          fc.pre(
            conditions.every(
              (cond) =>
                !(
                  cond.operator === 'startsWith' ||
                  (cond.operator === 'regex' && !cond.value?.endsWith('$'))
                ) ||
                typeof values[cond.path] === 'string' ||
                values[cond.path] === undefined ||
                values[cond.path] === null,
            ),
          )
          const { document, notes } = fromFailureLambda({
            exception: { enabled: true, match: conditions },
          })
          expect(notes).toEqual([])
          const fault = (document.faults as Record<string, unknown>[])[0] as Record<string, unknown>
          const issues: ConfigIssue[] = []
          const targeting = parseTargeting(fault, '', issues)
          expect(issues).toEqual([])
          return matches(targeting, event, {}) === failureLambdaMatches(event, conditions)
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('translateRegex', () => {
  it('translates anchored literals only', () => {
    expect(translateRegex('p', '^GET$')).toEqual({ path: 'p', equals: 'GET' })
    expect(translateRegex('p', '^(GET|HEAD)$')).toEqual({ path: 'p', oneOf: ['GET', 'HEAD'] })
    expect(translateRegex('p', '^(?:a|b)$')).toEqual({ path: 'p', oneOf: ['a', 'b'] })
    expect(translateRegex('p', '^/api')).toEqual({ path: 'p', prefix: '/api' })
    expect(translateRegex('p', '^api\\.example\\.com$')).toEqual({
      path: 'p',
      equals: 'api.example.com',
    })
    expect(translateRegex('p', '^200$')).toEqual({ path: 'p', oneOf: ['200', 200] })
    expect(translateRegex('p', '^')).toEqual({ path: 'p', exists: true })
    for (const pattern of ['GET', 'GET$', '^G.T$', '^(a|b)', '^a|b$', '^\\d+$', '^(a+)+$', '^a$b'])
      expect(translateRegex('p', pattern)).toBeUndefined()
  })
})
