/**
 * Powertools Idempotency (DynamoDB persistence, on dynalite) answering from its
 * record, with a fault on the invocation's dependencies in front of it: the
 * AWS SDK fault (`chaosAwsSdk`) and the outbound HTTP fault (`chaosHttp`) fire
 * in `before`, then Idempotency answers the repeated call early, so neither
 * the handler nor the chaos middleware's `after` runs. What the fault did
 * must end with that invocation: the calls made once it has answered reach
 * the service.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import middy, { type MiddlewareObj } from '@middy/core'
import { chaosAwsSdk } from '@middy-chaos/aws-sdk'
import { chaosHttp, interceptorsInstalled } from '@middy-chaos/http'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { makeContext, restApiEvent, useCapturedLogs } from '../helpers/index.js'
import { idempotencyTable } from './helpers.js'

/** A local HTTP server, reached as `localhost` (the host the HTTP fault targets). */
let server: Server
let hits = 0
let url = ''

beforeAll(async () => {
  server = createServer((request, response) => {
    hits += 1
    request.resume()
    response.end('hello')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://localhost:${(server.address() as AddressInfo).port}/`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** What a call did: `ok` and the SDK's attempts, or the error's name and code. */
const attempt = async (call: () => Promise<{ $metadata: { attempts?: number } }>) => {
  try {
    return { ok: true, attempts: (await call()).$metadata.attempts }
  } catch (error) {
    const { name, code } = error as Error & { code?: string }
    return { ok: false, name, code }
  }
}

const viaFetch = async () => {
  try {
    const response = await fetch(url)
    return { ok: true, status: response.status, body: await response.text() }
  } catch (error) {
    return { ok: false, code: (error as Error & { cause?: { code?: string } }).cause?.code }
  }
}

describe('faults on dependencies, in front of Powertools Idempotency answering from its record', () => {
  const logs = useCapturedLogs()
  let table: Awaited<ReturnType<typeof idempotencyTable>>
  beforeAll(async () => {
    table = await idempotencyTable(inject('dynamoEndpoint'))
  })

  /**
   * A function whose handler counts its runs and reports what `dependency`
   * gave it, with `chaos` in front of Idempotency: `chaos` fires in `before`,
   * then Idempotency answers a repeated call from its record.
   */
  const idempotentFunction = (chaos: MiddlewareObj, dependency: () => Promise<unknown>) => {
    const counter = { runs: 0 }
    const idempotency = makeHandlerIdempotent({
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: table.tableName,
        clientConfig: table.clientConfig,
      }),
      config: new IdempotencyConfig({ eventKeyJmesPath: 'headers."idempotency-key"' }),
    })
    const handler = middy(async () => {
      counter.runs += 1
      return { statusCode: 201, body: JSON.stringify(await dependency()) }
    })
      .use(chaos)
      .use(idempotency)
    const key = randomUUID()
    const call = () =>
      handler(
        restApiEvent({ httpMethod: 'POST', headers: { 'idempotency-key': key } }),
        makeContext({ awsRequestId: randomUUID() }),
      )
    return { call, counter }
  }

  it('chaosAwsSdk: a DynamoDB call made after the answer from the record reaches the service', async () => {
    // Prepare: every DynamoDB call of the client fails while the fault is on
    const ddb = new DynamoDBClient(table.clientConfig)
    const listTables = () => attempt(() => ddb.send(new ListTablesCommand({})))
    const chaos = chaosAwsSdk({
      clients: [ddb],
      config: {
        version: 1,
        faults: [{ type: 'aws_sdk', service: 'DynamoDB', error: 'ValidationException' }],
      },
    })
    const fn = idempotentFunction(chaos, listTables)

    // Act
    const first = await fn.call()
    const replay = await fn.call()
    const after = await listTables()

    // Assess: the first call ran under the fault; the second, with the fault fired for it too,
    // was answered from the record
    expect(logs.injected()).toHaveLength(2)
    expect(JSON.parse(first.body)).toMatchObject({ ok: false, name: 'ValidationException' })
    expect(replay).toEqual(first)
    expect(fn.counter.runs).toBe(1)
    expect(after).toEqual({ ok: true, attempts: 1 })
  })

  it('chaosHttp: a fetch made after the answer from the record reaches the server, nothing left patched', async () => {
    // Prepare: requests to localhost are refused while the fault is on
    const fetchBefore = globalThis.fetch
    const chaos = chaosHttp({
      config: {
        version: 1,
        faults: [{ type: 'http', hosts: ['localhost'], fault: 'refused' }],
      },
    })
    const fn = idempotentFunction(chaos, viaFetch)
    hits = 0

    // Act
    const first = await fn.call()
    const replay = await fn.call()
    const installedAfter = interceptorsInstalled()
    const after = await viaFetch()

    // Assess: the first call ran under the fault; the second, with the fault fired for it too,
    // was answered from the record
    expect(logs.injected()).toHaveLength(2)
    expect(JSON.parse(first.body)).toEqual({ ok: false, code: 'ECONNREFUSED' })
    expect(replay).toEqual(first)
    expect(fn.counter.runs).toBe(1)
    expect(installedAfter).toBe(false)
    expect(globalThis.fetch).toBe(fetchBefore)
    expect(after).toEqual({ ok: true, status: 200, body: 'hello' })
    expect(hits).toBe(1)
  })
})
