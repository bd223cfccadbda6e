/**
 * chaos_lambda's flat format, as the AWS FIS workshop writes it, read with the
 * workshop's three faults: each fault package says which flat key holds its
 * fields (`formats.chaosLambda`).
 */
import middy from '@middy/core'
import { type FaultCatalog, parseConfig as parse } from '@middy-chaos/core'
import { chaosException, exceptionFault } from '@middy-chaos/exception'
import { chaosLatency, latencyFault } from '@middy-chaos/latency'
import { statusCodeFault } from '@middy-chaos/status-code'
import { describe, expect, it } from 'vitest'
import {
  captureLogs,
  helloWorld,
  makeContext,
  onFakeClock,
  restApiEvent,
  useCapturedLogs,
} from '../helpers/index.js'

const WORKSHOP: FaultCatalog = [latencyFault, statusCodeFault, exceptionFault]
const parseConfig = (raw: unknown) => parse(raw, { faults: WORKSHOP })

const workshop = (overrides: Record<string, unknown> = {}) => ({
  is_enabled: true,
  fault_type: 'latency',
  delay: 400,
  error_code: 404,
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
  ...overrides,
})

describe('parseConfig: chaos_lambda format', () => {
  it('reads the workshop latency value as one latency fault with its delay', () => {
    const { document, issues } = parseConfig(JSON.stringify(workshop()))
    expect(issues).toEqual([])
    expect(document.format).toBe('chaos_lambda')
    expect(document.enabled).toBe(true)
    expect(document.faults).toHaveLength(1)
    expect(document.faults[0]).toMatchObject({ type: 'latency', rate: 1, fields: { delay: 400 } })
  })

  it('maps error_code to statusCode and exception_msg to message', () => {
    const status = parseConfig(workshop({ fault_type: 'status_code' })).document.faults[0]
    const exception = parseConfig(workshop({ fault_type: 'exception' })).document.faults[0]
    expect(status?.fields).toMatchObject({ statusCode: 404 })
    expect(status?.aliases).toEqual({ statusCode: 'error_code' })
    expect(exception?.fields).toMatchObject({ message: 'Fault injected by chaos-lambda' })
  })

  it('reads the alias "error" as the exception, with its exception_msg, through a Middy chain', async () => {
    // Prepare: the workshop's value with fault_type "error" and a message of its own
    const config = workshop({ fault_type: 'error', exception_msg: 'error alias honours me' })
    let ran = false
    const handler = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosException({ config }))
    const logs = captureLogs()

    // Act
    const outcome = handler(restApiEvent(), makeContext())

    // Assess: the exception fault fired with the message of exception_msg, before the handler
    try {
      await expect(outcome).rejects.toMatchObject({
        name: 'ChaosInjectedError',
        message: 'error alias honours me',
      })
    } finally {
      logs.restore()
    }
    expect(ran).toBe(false)
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'exception', phase: 'before', message: 'error alias honours me' },
    })
    const fault = parseConfig(config).document.faults[0]
    expect(fault).toMatchObject({
      type: 'exception',
      fields: { message: 'error alias honours me' },
    })
    expect(fault?.aliases).toEqual({ message: 'exception_msg' })
  })

  it('treats is_enabled false, or missing, as no faults', () => {
    expect(parseConfig(workshop({ is_enabled: false })).document.enabled).toBe(false)
    const { is_enabled: _, ...withoutFlag } = workshop()
    expect(parseConfig(withoutFlag).document.enabled).toBe(false)
  })

  it('takes a missing rate as 1 and keeps rate 0', () => {
    const { rate: _, ...withoutRate } = workshop()
    expect(parseConfig(withoutRate).document.faults[0]?.rate).toBe(1)
    expect(parseConfig(workshop({ rate: 0 })).document.faults[0]?.rate).toBe(0)
  })

  it('names the field and the reason when the rate is out of range', () => {
    const { document, issues } = parseConfig(workshop({ rate: 1.5 }))
    expect(document.faults).toEqual([])
    expect(issues).toEqual([{ path: 'rate', message: 'must be a number from 0 to 1 (got 1.5)' }])
  })

  it('reports a missing fault_type', () => {
    const { issues } = parseConfig({ is_enabled: true })
    expect(issues[0]?.path).toBe('fault_type')
  })
})

describe('the dead-man stamp in the chaos_lambda format', () => {
  useCapturedLogs()
  it('reads expiresAt, which chaos_lambda itself ignores', () => {
    const { document, issues } = parseConfig(workshop({ expiresAt: '2026-12-01T12:00:00Z' }))
    expect(issues).toEqual([])
    expect(document.expiresAt).toBe(Date.parse('2026-12-01T12:00:00Z'))
    expect(document.faults).toHaveLength(1)
  })

  it('rejects the whole value when the expiry cannot be read: someone meant the faults to stop', () => {
    const { document, issues } = parseConfig(workshop({ expiresAt: 'tomorrow' }))
    expect(document.faults).toEqual([])
    expect(issues[0]?.path).toBe('expiresAt')
  })

  it('stops the latency middleware once the stamp has passed', async () => {
    const now = Date.now()
    const live = { config: JSON.stringify(workshop({ delay: 30, expiresAt: now + 60_000 })) }
    const dead = { config: JSON.stringify(workshop({ delay: 30, expiresAt: now - 1 })) }
    // On a fake clock: the wait the fault asked for, whatever the load
    const waited = async (options: { config: string }) =>
      (
        await onFakeClock(() =>
          middy(helloWorld).use(chaosLatency(options))(restApiEvent(), makeContext()),
        )
      ).ms
    expect(await waited(live)).toBe(30)
    expect(await waited(dead)).toBe(0)
  })
})
