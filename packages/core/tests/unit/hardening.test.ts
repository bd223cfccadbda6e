/**
 * The promises of the fail-safe engine under hostile input: validation never
 * throws and quotes nothing unbounded, no part of a value that failed to parse
 * reaches a log line, every documented log line appears, and a changed entry
 * starts its rate state afresh.
 */
import middy from '@middy/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  helloWorld,
  makeContext,
  untypedConfig,
  useCapturedLogs,
} from '../../../../test/helpers/index.js'
import {
  type ConfigProvider,
  createFaultMiddleware,
  type FaultDefinition,
  parseConfig,
  resetConfigSources,
} from '../../src/index.js'
import { MAX_ISSUE_LENGTH, MAX_LOGGED_ISSUES } from '../../src/util.js'

/** A fault that counts its injections. */
let fired = 0
const countFault: FaultDefinition<{ label: string }> = {
  type: 'count',
  phases: ['before'],
  defaultPhase: 'before',
  parse: (fields) => {
    const label = fields.string('label', { default: 'x', maxLength: 64 })
    return label === undefined ? undefined : { label }
  },
  plan: () => ({
    run: () => {
      fired++
    },
  }),
}

/** A provider answering the values of `answers` in turn (the last one again once they run out). */
const sequence = (answers: unknown[]): ConfigProvider & { calls: number } => {
  const provider = {
    calls: 0,
    get: async () => answers[Math.min(provider.calls++, answers.length - 1)],
  }
  return provider
}

describe('validation of hostile documents', () => {
  const logs = useCapturedLogs()
  afterEach(() => {
    resetConfigSources()
    vi.useRealTimers()
  })

  it('never throws on deeply nested values, and names them without their content', () => {
    const deep = `{"version":${'['.repeat(10_000)}${']'.repeat(10_000)},"faults":[]}`
    const { issues } = parseConfig(deep)
    expect(issues).toEqual([{ path: 'version', message: expect.stringMatching(/an array/) }])
    const rate = parseConfig(
      untypedConfig({ version: 1, faults: [{ type: 'count', rate: 'x'.repeat(1_000_000) }] }),
    )
    expect(rate.issues[0]?.message.length).toBeLessThan(120)
  })

  it('keeps a warning line under its documented size, however many and however long the issues', async () => {
    // Prepare: 50 entries, each with a huge unknown budget key and a bad rate
    const key = 'k'.repeat(100_000)
    const config = untypedConfig({
      version: 1,
      faults: Array.from({ length: 50 }, () => ({
        type: 'count',
        rate: 'r'.repeat(100_000),
        budget: { max: 1, windowMs: 1, [key]: 1 },
      })),
    })
    const handler = middy(helloWorld).use(createFaultMiddleware(countFault, { config }))

    // Act
    await handler({}, makeContext())

    // Assess
    const warning = logs.byLevel('warn')[0]
    expect(warning).toBeDefined()
    const issues = warning?.issues as string[]
    expect(issues).toHaveLength(MAX_LOGGED_ISSUES + 1)
    for (const line of issues) expect(line.length).toBeLessThanOrEqual(MAX_ISSUE_LENGTH)
    expect(issues.at(-1)).toMatch(/^\(and \d+ more\)$/)
    expect(JSON.stringify(warning).length).toBeLessThan(8 * 1024)
  })

  it('never quotes a value that is not JSON: a secret stays out of the logs', async () => {
    const secret = 'hunter2-db-password-0123456789'
    const provider = sequence([secret])
    const handler = middy(helloWorld).use(
      createFaultMiddleware(countFault, { provider, parameterName: '/secret' }),
    )
    await handler({}, makeContext())
    const text = JSON.stringify(logs.lines)
    expect(text).toMatch(/is not valid JSON \(30 characters; the value is not quoted\)/)
    for (let i = 0; i + 4 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 4))
  })
})

describe('log lines the documentation promises', () => {
  const logs = useCapturedLogs()
  afterEach(() => {
    resetConfigSources()
    vi.useRealTimers()
  })

  it('says the config expired when the expiry passed between two fetches', async () => {
    // Prepare: a document that expires while no invocation comes
    vi.useFakeTimers({ toFake: ['Date'] })
    const expiresAt = Date.now() + 10_000
    const config = JSON.stringify({ version: 1, expiresAt, faults: [{ type: 'count' }] })
    const provider = sequence([config])
    const handler = middy(helloWorld).use(
      createFaultMiddleware(countFault, { provider, parameterName: '/p', maxAge: 5 }),
    )
    fired = 0
    await handler({}, makeContext())
    expect(fired).toBe(1)

    // Act: the next invocation comes a minute later, after the window and the expiry
    vi.setSystemTime(Date.now() + 60_000)
    await handler({}, makeContext())
    await handler({}, makeContext())

    // Assess
    expect(fired).toBe(1)
    expect(provider.calls).toBe(2)
    const expired = logs.lines.filter(
      (l) => l.message === 'Chaos config expired: faults stopped by themselves',
    )
    expect(expired).toHaveLength(1)
    expect(expired[0]?.expiredAt).toBe(new Date(expiresAt).toISOString())
  })
})

describe('rate state', () => {
  useCapturedLogs()
  afterEach(() => resetConfigSources())

  it('starts afresh when any field of the entry changes, and carries on when none does', async () => {
    // Prepare: every 3rd invocation fires; the label changes after 2 invocations
    const every = (label: string) =>
      JSON.stringify({ version: 1, faults: [{ type: 'count', every: 3, label }] })
    // maxAge 0: the fetch at init, then one per invocation started after it arrived
    const provider = sequence([every('a'), every('a'), every('a'), every('b')])
    const handler = middy(helloWorld).use(
      createFaultMiddleware(countFault, { provider, parameterName: '/rate', maxAge: 0 }),
    )
    fired = 0

    // Act: 2 invocations with "a" (counts 1, 2), then with "b" (counts start again)
    for (let i = 0; i < 4; i++) await handler({}, makeContext())

    // Assess: "a" would have fired at its 3rd; "b" starts at 1 and fires at its 3rd = the 5th call
    expect(fired).toBe(0)
    await handler({}, makeContext())
    expect(fired).toBe(1)
  })
})
