/**
 * What the READMEs say a client gets is what a client gets. A snippet that
 * shows an answer says it in a comment, `// → 404 Hello from Lambda!` (or
 * `// PUT → …` for the event labelled PUT); this test runs that snippet as it
 * is written, with the README's config in a file store (`CHAOS_STORE=file`,
 * `CHAOS_PARAM`), and compares the answer it gets with the comment. The
 * config's rate fields (`rate`, `every`, `budget`) are left out: the answer
 * shown is the one of an invocation that draws the fault.
 *
 * An answer is written `<status> <body>` (`500` alone when there is no body),
 * or `throws <name>: <message>` when the invocation fails (behind API Gateway:
 * `502 {"message": "Internal server error"}`).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { resetConfigSources } from '@middy-chaos/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeContext, restApiEvent } from '../helpers/index.js'
import { type Fence, fencesOf, readmes, snippetsOf, useScratch } from './snippets.js'

/** A snippet whose answers are checked, and the README's config it runs with. */
interface Case {
  readonly readme: string
  /** Which TypeScript fence of the README (0: the first). */
  readonly snippet: number
  /** Which JSON fence of the README holds the config (0: the first). */
  readonly config: number
  /** The events of labelled answers; an unlabelled answer gets a REST API `GET /`. */
  readonly events?: Readonly<Record<string, () => unknown>>
}

const order = (method: string, body: string) =>
  restApiEvent({
    httpMethod: method,
    path: '/orders',
    headers: { 'content-type': 'application/json' },
    body,
  })

const ORDER = '{"email":"ada@example.com","items":[{"sku":"a-1","qty":1}]}'
const orders = { POST: () => order('POST', ORDER), PUT: () => order('PUT', ORDER) }

const CASES: readonly Case[] = [
  { readme: 'packages/latency/README.md', snippet: 0, config: 0 },
  { readme: 'packages/status-code/README.md', snippet: 0, config: 0 },
  { readme: 'packages/status-code/README.md', snippet: 1, config: 0 },
  { readme: 'packages/exception/README.md', snippet: 0, config: 0 },
  { readme: 'packages/exception/README.md', snippet: 1, config: 0 },
  { readme: 'packages/http/README.md', snippet: 0, config: 0 },
  { readme: 'packages/http/README.md', snippet: 1, config: 0 },
  { readme: 'packages/event/README.md', snippet: 0, config: 0, events: orders },
  { readme: 'packages/event/README.md', snippet: 1, config: 0, events: orders },
  {
    readme: 'packages/point/README.md',
    snippet: 0,
    config: 0,
    events: { '': () => order('POST', '{"orderId":"o-1","amount":100}') },
  },
  // The entry of an error with a statusCode, on its own in the README.
  { readme: 'packages/point/README.md', snippet: 1, config: 1 },
  { readme: 'packages/response/README.md', snippet: 0, config: 0 },
]

const ANSWER = /^\/\/ (?:(\S+) )?→ (.*)$/

/** The answers a snippet shows, by label ('' for an unlabelled one). */
const answersOf = (snippet: Fence): Map<string, string> =>
  new Map(
    snippet.code
      .split('\n')
      .map((line) => ANSWER.exec(line.trim()))
      .filter((found) => found !== null)
      .map((found) => [found[1] ?? '', found[2] ?? '']),
  )

/** An answer as the comments write it. */
const describeAnswer = (outcome: PromiseSettledResult<unknown>): string => {
  if (outcome.status === 'rejected') {
    const error = outcome.reason as Error
    return `throws ${error.name}: ${error.message}`
  }
  const value = outcome.value as { statusCode?: number; body?: unknown } | undefined
  if (typeof value?.statusCode !== 'number') return JSON.stringify(value)
  return value.body === undefined || value.body === ''
    ? String(value.statusCode)
    : `${value.statusCode} ${typeof value.body === 'string' ? value.body : JSON.stringify(value.body)}`
}

/** The README's config (a document, or one entry shown on its own), firing on every invocation. */
const firing = (shown: Record<string, unknown>): Record<string, unknown> => {
  const config = typeof shown.type === 'string' ? { version: 1, faults: [shown] } : shown
  if (!Array.isArray(config.faults)) return { ...config, rate: 1 }
  return {
    ...config,
    faults: config.faults.map(({ rate: _rate, every: _every, budget: _budget, ...entry }) => entry),
  }
}

describe('the answers the READMEs show', () => {
  const scratchDir = useScratch('answers')
  afterEach(() => {
    vi.unstubAllEnvs()
    vi.restoreAllMocks()
    resetConfigSources()
  })

  it('are all run: every snippet of a README that shows an answer is a case below', () => {
    const showing = readmes().flatMap((readme) =>
      snippetsOf(readme).flatMap((fence, index) =>
        answersOf(fence).size > 0 ? [`${readme}, snippet ${index}`] : [],
      ),
    )
    expect(showing.sort()).toEqual(CASES.map((c) => `${c.readme}, snippet ${c.snippet}`).sort())
  })

  it.each(CASES.map((entry) => [`${entry.readme}, snippet ${entry.snippet}`, entry] as const))(
    '%s: the chain as written answers what its comments say, with no stack trace on the console',
    async (_, { readme, snippet: index, config: configIndex, events = {} }) => {
      // Prepare: the snippet as a module, the README's config in a file store
      const snippet = snippetsOf(readme)[index] as Fence
      const json = fencesOf(readme).filter((fence) => fence.lang === 'json')[configIndex] as Fence
      const name = `${readme.replace(/\W+/g, '-')}-${index}`
      const configFile = join(scratchDir(), `${name}.json`)
      await writeFile(configFile, JSON.stringify(firing(JSON.parse(json.code))))
      const moduleFile = join(scratchDir(), `${name}.ts`)
      await writeFile(moduleFile, snippet.code)
      vi.stubEnv('CHAOS_STORE', 'file')
      vi.stubEnv('CHAOS_PARAM', configFile)
      const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined)
      vi.spyOn(console, 'info').mockImplementation(() => undefined)
      const { handler } = (await import(moduleFile)) as {
        handler: (event: unknown, context: unknown) => Promise<unknown>
      }

      // Act
      const got = new Map<string, string>()
      for (const label of answersOf(snippet).keys()) {
        const event = events[label]?.() ?? restApiEvent()
        const [outcome] = await Promise.allSettled([handler(event, makeContext())])
        got.set(label, describeAnswer(outcome as PromiseSettledResult<unknown>))
      }

      // Assess
      expect(got).toEqual(answersOf(snippet))
      expect(errors).not.toHaveBeenCalled()
    },
    30_000,
  )
})
