/** Against a real DynamoDB protocol peer (dynalite), started by the test setup. */
import { randomUUID } from 'node:crypto'
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { captureLogs, makeContext } from '../../../test/helpers/index.js'
import { chaosAwsSdk } from '../src/index.js'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const tableName = `orders-${randomUUID()}`
let dynamodb: DynamoDBClient

/** A handler that writes then reads an item, reporting what each call did. */
const lambda = async () => {
  const outcome: Record<string, string> = {}
  for (const [name, command] of [
    [
      'put',
      new PutItemCommand({ TableName: tableName, Item: { id: { S: 'o-1' }, total: { N: '42' } } }),
    ],
    ['get', new GetItemCommand({ TableName: tableName, Key: { id: { S: 'o-1' } } })],
  ] as const) {
    try {
      await dynamodb.send(command as never)
      outcome[name] = 'ok'
    } catch (error) {
      const { name: errorName, $metadata } = error as Error & {
        $metadata?: { httpStatusCode?: number }
      }
      outcome[name] = `${errorName} ${$metadata?.httpStatusCode}`
    }
  }
  return outcome
}

const fault = (fields: object) => ({ version: 1, faults: [{ type: 'aws_sdk', ...fields }] })

describe('chaosAwsSdk (DynamoDB on dynalite)', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeAll(async () => {
    dynamodb = new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'us-east-1',
      credentials,
    })
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
  })
  beforeEach(() => {
    logs = captureLogs()
  })
  afterEach(() => {
    logs.restore()
    vi.unstubAllEnvs()
  })

  it('fails only the matching operation with the named error, and the real calls go through otherwise', async () => {
    const config = fault({
      service: 'DynamoDB',
      operation: 'GetItem',
      error: 'ProvisionedThroughputExceededException',
      httpStatusCode: 400,
    })
    const handler = middy(lambda).use(chaosAwsSdk({ clients: [dynamodb], config }))
    expect(await handler({}, makeContext())).toEqual({
      put: 'ok',
      get: 'ProvisionedThroughputExceededException 400',
    })
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'aws_sdk', operation: 'GetItem' },
    })
  })

  it('ends with the invocation: the next invocation without a fault calls DynamoDB for real', async () => {
    const failing = middy(lambda).use(
      chaosAwsSdk({ clients: [dynamodb], config: fault({ error: 'InternalServerError' }) }),
    )
    expect(await failing({}, makeContext())).toEqual({
      put: 'InternalServerError 500',
      get: 'InternalServerError 500',
    })
    const healthy = middy(lambda).use(
      chaosAwsSdk({ clients: [dynamodb], config: fault({ error: 'X', rate: 0 }) }),
    )
    expect(await healthy({}, makeContext())).toEqual({ put: 'ok', get: 'ok' })
  })

  it('ends even when the handler throws', async () => {
    const throwing = middy(async () => {
      throw new Error('handler failed')
    }).use(chaosAwsSdk({ clients: [dynamodb], config: fault({ error: 'InternalServerError' }) }))
    await expect(throwing({}, makeContext())).rejects.toThrow('handler failed')
    expect(await lambda()).toEqual({ put: 'ok', get: 'ok' })
  })

  it('delays matching calls', async () => {
    const handler = middy(lambda).use(
      chaosAwsSdk({ clients: [dynamodb], config: fault({ service: 'DynamoDB', delay: 150 }) }),
    )
    const started = performance.now()
    expect(await handler({}, makeContext())).toEqual({ put: 'ok', get: 'ok' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(295) // two calls, 150 ms each
  })

  it('leaves other services alone', async () => {
    const handler = middy(lambda).use(
      chaosAwsSdk({ clients: [dynamodb], config: fault({ service: 'S3', error: 'SlowDown' }) }),
    )
    expect(await handler({}, makeContext())).toEqual({ put: 'ok', get: 'ok' })
  })

  it.each([
    [
      { service: 'DynamoDB' },
      'faults[0].error: is required unless a delay is given: an error name such as "ThrottlingException"',
    ],
    [
      { error: 'Bad Name!' },
      'faults[0].error: must be a name such as "DynamoDB", "GetItem", "ThrottlingException" (got "Bad Name!")',
    ],
    [
      { error: 'X', httpStatusCode: 200 },
      'faults[0].httpStatusCode: must be an integer from 400 to 599 (got 200)',
    ],
  ])('rejects %j naming the field', async (fields, message) => {
    const handler = middy(lambda).use(chaosAwsSdk({ clients: [dynamodb], config: fault(fields) }))
    expect(await handler({}, makeContext())).toEqual({ put: 'ok', get: 'ok' })
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it('with the kill switch, leaves the clients as they are', async () => {
    vi.stubEnv('CHAOS_DISABLED', 'true')
    const client = new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'us-east-1',
      credentials,
    })
    const add = vi.spyOn(client.middlewareStack, 'add')
    chaosAwsSdk({ clients: [client], config: fault({ error: 'X' }) })
    expect(add).not.toHaveBeenCalled()
  })
})
