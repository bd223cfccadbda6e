/**
 * Faults in your own unit tests: build the handler with a static chaos
 * `config` (no store, nothing fetched), make every decision deterministic
 * (`rate: 1`, or a `seed`, or `every`), and check what the function does.
 * DynamoDB is dynalite here, started by the repository's test setup; use your
 * own local DynamoDB, or any endpoint your tests already have.
 */
import { randomUUID } from 'node:crypto'
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb'
import type { ChaosConfig } from '@middy-chaos/core'
import { beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { makeHandler } from '../src/chain.js'
import { makeOrdersHandler } from './orders.js'

const context = () =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'orders',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
    getRemainingTimeInMillis: () => 3000,
  }) as never
const get = (path: string, id?: string) =>
  ({
    httpMethod: 'GET',
    path,
    headers: {},
    requestContext: { requestId: randomUUID() },
    pathParameters: id === undefined ? null : { id },
  }) as never

// Chaos writes one log line per injected fault: keep test output quiet.
beforeAll(() => {
  vi.spyOn(console, 'info').mockImplementation(() => undefined)
})

describe('hello-world under an injected 503', () => {
  it('answers 503 without running the handler', async () => {
    const handler = makeHandler({
      config: {
        version: 1,
        faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
      },
    })

    expect(await handler(get('/'), context())).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json' },
      body: '{"message":"Injected fault"}',
    })
  })

  it('answers 503 after the handler ran, with its body', async () => {
    const handler = makeHandler({
      config: { version: 1, faults: [{ type: 'status_code', statusCode: 503 }] },
    })

    expect(await handler(get('/'), context())).toEqual({
      statusCode: 503,
      body: 'Hello from Lambda!',
    })
  })

  it('fails on the same invocations every run: a seed makes the rate reproducible', async () => {
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'status_code', statusCode: 503, rate: 0.5, seed: 42 }],
    }
    const statuses = async () => {
      const handler = makeHandler({ config })
      const seen: number[] = []
      for (let i = 0; i < 8; i++) seen.push((await handler(get('/'), context())).statusCode)
      return seen
    }

    const first = await statuses()

    expect(await statuses()).toEqual(first)
    expect(first).toContain(503)
    expect(first).toContain(200)
  })

  it('fails every third invocation with `every`', async () => {
    const handler = makeHandler({
      config: { version: 1, faults: [{ type: 'status_code', statusCode: 503, every: 3 }] },
    })
    const seen: number[] = []
    for (let i = 0; i < 6; i++) seen.push((await handler(get('/'), context())).statusCode)

    expect(seen).toEqual([200, 200, 503, 200, 200, 503])
  })
})

describe('an orders function under an injected DynamoDB throttle', () => {
  let dynamodb: DynamoDBClient
  const tableName = `orders-${randomUUID()}`
  beforeAll(async () => {
    // No retries here: the test checks what the handler does once the SDK gives up.
    dynamodb = new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    })
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { id: { S: 'o-1' }, status: { S: 'shipped' } },
      }),
    )
  })

  const throttled: ChaosConfig = {
    version: 1,
    faults: [
      {
        type: 'aws_sdk',
        service: 'DynamoDB',
        operation: 'GetItem',
        error: 'ProvisionedThroughputExceededException',
      },
    ],
  }

  it('reads the order when nothing is injected', async () => {
    const handler = makeOrdersHandler({
      dynamodb,
      tableName,
      chaos: { config: { version: 1, faults: [] } },
    })

    expect(await handler(get('/orders/o-1', 'o-1'), context())).toEqual({
      statusCode: 200,
      body: '{"id":"o-1","status":"shipped"}',
    })
  })

  it('answers a retryable 503 when DynamoDB throttles the read', async () => {
    const handler = makeOrdersHandler({ dynamodb, tableName, chaos: { config: throttled } })

    expect(await handler(get('/orders/o-1', 'o-1'), context())).toEqual({
      statusCode: 503,
      headers: { 'retry-after': '1' },
      body: '{"message":"Busy, try again"}',
    })
  })

  it('answers 503 from chaos before reading anything', async () => {
    const handler = makeOrdersHandler({
      dynamodb,
      tableName,
      chaos: {
        config: {
          version: 1,
          faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
        },
      },
    })

    expect(await handler(get('/orders/o-1', 'o-1'), context())).toMatchObject({
      statusCode: 503,
      body: '{"message":"Injected fault"}',
    })
  })
})
