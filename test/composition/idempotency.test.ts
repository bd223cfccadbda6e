/**
 * Powertools Idempotency (DynamoDB persistence, on dynalite) around and inside
 * chaos: an injected failure is never stored as the idempotent result, and a
 * retry once faults are off runs the handler (issue 13, cases 1 and 2).
 */
import { randomUUID } from 'node:crypto'
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware'
import middy from '@middy/core'
import { createFaultMiddleware, type FaultDefinition } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { makeContext, restApiEvent, useCapturedLogs } from '../helpers/index.js'
import { idempotencyTable, switchableConfig } from './helpers.js'

const OFF = { version: 1, enabled: false, faults: [] }
const shortCircuit = {
  version: 1,
  faults: [
    {
      type: 'status_code',
      statusCode: 503,
      preventExecution: true,
      headers: { 'retry-after': '1' },
    },
  ],
}
const afterHandler = { version: 1, faults: [{ type: 'status_code', statusCode: 503 }] }

/** A fault that rewrites the handler's answer, as `@middy-chaos/response` does. */
const rewriteFault: FaultDefinition<Record<string, never>> = {
  type: 'rewrite_answer',
  phases: ['before', 'after'],
  defaultPhase: 'after',
  parse: () => ({}),
  plan: ({ request }) => ({
    run: () => {
      request.response = { statusCode: 200, body: '{"corrupted":true}' }
    },
  }),
}

type Order = 'chaos inside Idempotency' | 'chaos outside Idempotency'
const ORDERS: Order[] = ['chaos inside Idempotency', 'chaos outside Idempotency']

describe('chaos and Powertools Idempotency (DynamoDB on dynalite)', () => {
  useCapturedLogs()
  let table: Awaited<ReturnType<typeof idempotencyTable>>
  beforeAll(async () => {
    table = await idempotencyTable(inject('dynamoEndpoint'))
  })

  /** An order-creating function: each run of the handler creates order number `runs`. */
  const orders = (order: Order, chaos: ReturnType<typeof chaosStatusCode>) => {
    const counter = { runs: 0 }
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: table.tableName,
      clientConfig: table.clientConfig,
    })
    const idempotency = makeHandlerIdempotent({
      persistenceStore,
      config: new IdempotencyConfig({ eventKeyJmesPath: 'headers."idempotency-key"' }),
    })
    const handler = middy(async () => {
      counter.runs += 1
      return { statusCode: 201, body: JSON.stringify({ order: counter.runs }) }
    })
    if (order === 'chaos inside Idempotency') handler.use(idempotency).use(chaos)
    else handler.use(chaos).use(idempotency)
    const key = randomUUID()
    const call = () =>
      handler(
        restApiEvent({ httpMethod: 'POST', headers: { 'idempotency-key': key } }),
        makeContext({ awsRequestId: randomUUID() }),
      )
    return { call, counter }
  }

  /** The table's records, and how many were added since it held `before` (tests run one at a time). */
  const recordsSince = async (before: number) => {
    const all = await table.records()
    return { all, added: all.length - before }
  }

  it.each(ORDERS)(
    'case 1, %s: a short-circuit answers 503 and leaves no INPROGRESS record; the retry runs the handler',
    async (order) => {
      // Prepare
      const { store, options } = switchableConfig(shortCircuit)
      const recordsBefore = (await table.records()).length
      const fn = orders(order, chaosStatusCode(options))

      // Act
      const injected = await fn.call()
      const left = await recordsSince(recordsBefore)
      store.value = OFF
      const retry = await fn.call()
      const replay = await fn.call()

      // Assess
      expect(injected).toEqual({
        statusCode: 503,
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
        body: '{"message":"Injected fault"}',
      })
      expect(left.added).toBe(0)
      expect(retry).toEqual({ statusCode: 201, body: '{"order":1}' })
      expect(replay).toEqual(retry)
      expect(fn.counter.runs).toBe(1)
      const records = await table.records()
      expect(records).toHaveLength(recordsBefore + 1)
      expect(records).toContainEqual({ status: 'COMPLETED', data: retry })
    },
  )

  it.each(ORDERS)(
    'case 2, %s: a 503 injected after the handler is not stored; the retry runs the handler again',
    async (order) => {
      // Prepare
      const { store, options } = switchableConfig(afterHandler)
      const recordsBefore = (await table.records()).length
      const fn = orders(order, chaosStatusCode(options))

      // Act
      const injected = await fn.call()
      const left = await recordsSince(recordsBefore)
      store.value = OFF
      const retry = await fn.call()
      const replay = await fn.call()

      // Assess: the work was done twice, as after any failure that follows it
      expect(injected).toEqual({ statusCode: 503, body: '{"order":1}' })
      expect(left.added).toBe(0)
      expect(left.all).not.toContainEqual(expect.objectContaining({ data: injected }))
      expect(retry).toEqual({ statusCode: 201, body: '{"order":2}' })
      expect(replay).toEqual(retry)
      expect(fn.counter.runs).toBe(2)
    },
  )

  it.each(ORDERS)(
    'an exception injected after the handler, %s, is not stored either',
    async (order) => {
      const { store, options } = switchableConfig({
        version: 1,
        faults: [{ type: 'exception', phase: 'after', message: 'lost answer' }],
      })
      const recordsBefore = (await table.records()).length
      const fn = orders(order, chaosException(options))

      await expect(fn.call()).rejects.toThrow('lost answer')
      expect((await recordsSince(recordsBefore)).added).toBe(0)
      store.value = OFF
      expect(await fn.call()).toEqual({ statusCode: 201, body: '{"order":2}' })
    },
  )

  it('a fault that rewrites the answer inside Idempotency: the rewritten answer is not stored', async () => {
    // Prepare
    const { store, options } = switchableConfig({
      version: 1,
      faults: [{ type: 'rewrite_answer' }],
    })
    const recordsBefore = (await table.records()).length
    const fn = orders('chaos inside Idempotency', createFaultMiddleware(rewriteFault, options))

    // Act
    const injected = await fn.call()
    const left = await recordsSince(recordsBefore)
    store.value = OFF
    const retry = await fn.call()

    // Assess
    expect(injected).toEqual({ statusCode: 200, body: '{"corrupted":true}' })
    expect(left.added).toBe(0)
    expect(retry).toEqual({ statusCode: 201, body: '{"order":2}' })
  })

  it("a fault that rewrites the answer outside Idempotency: the handler's own result is stored", async () => {
    // Prepare
    const { store, options } = switchableConfig({
      version: 1,
      faults: [{ type: 'rewrite_answer' }],
    })
    const recordsBefore = (await table.records()).length
    const fn = orders('chaos outside Idempotency', createFaultMiddleware(rewriteFault, options))

    // Act
    const injected = await fn.call()
    const left = await recordsSince(recordsBefore)
    store.value = OFF
    const replay = await fn.call()

    // Assess: the client saw the rewritten answer; the store holds what the handler returned
    expect(injected).toEqual({ statusCode: 200, body: '{"corrupted":true}' })
    expect(left.added).toBe(1)
    expect(left.all).toContainEqual({
      status: 'COMPLETED',
      data: { statusCode: 201, body: '{"order":1}' },
    })
    expect(replay).toEqual({ statusCode: 201, body: '{"order":1}' })
    expect(fn.counter.runs).toBe(1)
  })
})
