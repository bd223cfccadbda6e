/**
 * Against real protocol peers started by the test setup: dynalite (DynamoDB)
 * and moto_server (SSM), each behind a counting proxy, so a test knows how many
 * requests really reached the service.
 */
import { randomUUID } from 'node:crypto'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  AppConfigDataClient,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata'
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import {
  CreateTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  GetParameterCommand,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
  ThrottlingException,
} from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import {
  helloWorld,
  makeContext,
  restApiEvent,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import type { AwsSdkEntry } from '../src/index.js'
import { chaosAwsSdk, INJECTED_HEADER } from '../src/index.js'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const region = 'us-east-1'
const tableName = `orders-${randomUUID()}`
const parameterName = `/chaos/aws-sdk/${randomUUID()}`

/**
 * A reverse proxy that counts the requests reaching a peer, by `x-amz-target`
 * (`DynamoDB_20120810.GetItem`), and notes when each arrived (`Date.now()`).
 */
const countingProxy = async (target: string) => {
  const seen: { target: string; at: number }[] = []
  const upstream = new URL(target)
  const server: Server = createServer((incoming, outgoing) => {
    seen.push({ target: String(incoming.headers['x-amz-target'] ?? incoming.url), at: Date.now() })
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    incoming.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** When the requests seen for an operation since the last call arrived. */
    arrivals: (operation: string) => {
      const times = seen
        .filter((request) => request.target.endsWith(`.${operation}`))
        .map((request) => request.at)
      seen.length = 0
      return times
    },
    /** The requests seen for an operation since the last call. */
    take: (operation: string) => {
      const count = seen.filter((request) => request.target.endsWith(`.${operation}`)).length
      seen.length = 0
      return count
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

type Proxy = Awaited<ReturnType<typeof countingProxy>>
let dynamo: Proxy
let ssm: Proxy

/** Fresh clients per test: the SDK's retry capacity (500 tokens) belongs to a client. */
const dynamodbClient = (config: object = {}) =>
  new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials, ...config })
const ssmClient = (config: object = {}) =>
  new SSMClient({ endpoint: ssm.endpoint, region, credentials, ...config })

const getItem = () => new GetItemCommand({ TableName: tableName, Key: { id: { S: 'o-1' } } })
const getParameter = () => new GetParameterCommand({ Name: parameterName })

const fault = (fields: Omit<AwsSdkEntry, 'type'>): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'aws_sdk', ...fields }],
})

/** What a call did: its output's or its error's `$metadata`, the error, and how long it took. */
const outcome = async (call: () => Promise<{ $metadata: object }>) => {
  const started = performance.now()
  try {
    const output = await call()
    return { ok: true as const, metadata: output.$metadata, ms: performance.now() - started }
  } catch (error) {
    const { $metadata } = error as { $metadata: object }
    return { ok: false as const, error, metadata: $metadata, ms: performance.now() - started }
  }
}

type Metadata = { attempts?: number; totalRetryDelay?: number; httpStatusCode?: number }

beforeAll(async () => {
  dynamo = await countingProxy(inject('dynamoEndpoint'))
  ssm = await countingProxy(inject('motoEndpoint'))
  const setup = dynamodbClient()
  await setup.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  await setup.send(
    new PutItemCommand({ TableName: tableName, Item: { id: { S: 'o-1' }, total: { N: '42' } } }),
  )
  await ssmClient().send(
    new PutParameterCommand({ Name: parameterName, Value: 'v1', Type: 'String' }),
  )
})

afterAll(async () => {
  await dynamo.close()
  await ssm.close()
})

describe('chaosAwsSdk: attempts below the retry layer', () => {
  const logs = useCapturedLogs()

  it('fails the first K attempts: with K = 2 and 3 attempts the call succeeds, 1 request reaches the service', async () => {
    // Prepare: SSM's default is 3 attempts
    const client = ssmClient()
    const config = fault({ service: 'SSM', error: 'ThrottlingException', attempts: 2 })
    ssm.take('GetParameter')
    const handler = middy(() => outcome(() => client.send(getParameter()))).use(
      chaosAwsSdk({ clients: [client], config }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.ok).toBe(true)
    const metadata = result.metadata as Metadata
    expect(metadata.attempts).toBe(3)
    expect(ssm.take('GetParameter')).toBe(1)
    // Throttling backoff: the SDK waited before each retry, and says so (`totalRetryDelay`, the
    // delays it drew, not a clock reading). Its standard mode draws a random part of 1000 × 2^i ms
    // before retry i (full jitter): under 1000 + 2000 ms in all. The call took at least that long.
    const backoff = metadata.totalRetryDelay ?? 0
    expect(backoff).toBeGreaterThan(0)
    expect(backoff).toBeLessThan(3000)
    expect(result.ms).toBeGreaterThanOrEqual(backoff - 1)
    expect(logs.injected()[0]).toMatchObject({
      chaos: {
        faultType: 'aws_sdk',
        error: 'ThrottlingException',
        attempts: 2,
        httpStatusCode: 400,
      },
    })
    expect(logs.lines.find((line) => line.message === 'Chaos fault ended')).toMatchObject({
      chaos: { faultType: 'aws_sdk', affectedAttempts: 2, affectedCalls: 1 },
    })
  })

  it("with DynamoDB's default 4 attempts, K = 3 still succeeds after 3 retries", async () => {
    // Prepare
    const client = dynamodbClient()
    dynamo.take('GetItem')
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ error: 'InternalServerError', attempts: 3 }),
      }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.ok).toBe(true)
    expect((result.metadata as Metadata).attempts).toBe(4)
    expect(dynamo.take('GetItem')).toBe(1)
  })

  it("fails with the injected error's own class after the SDK's backoff when K ≥ max attempts", async () => {
    // Prepare
    const client = dynamodbClient()
    dynamo.take('GetItem')
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ error: 'InternalServerError', message: 'try later', attempts: 10 }),
      }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.ok).toBe(false)
    const error = result.error as InternalServerError & { $response: { headers: object } }
    expect(error).toBeInstanceOf(InternalServerError)
    expect(error).toBeInstanceOf(DynamoDBServiceException)
    expect(error).toMatchObject({
      name: 'InternalServerError',
      message: 'try later',
      $fault: 'server',
    })
    const metadata = result.metadata as Metadata & { requestId?: string }
    expect(metadata).toMatchObject({ httpStatusCode: 500, attempts: 4 })
    expect(metadata.requestId).toMatch(/^[0-9a-f-]{36}$/)
    // DynamoDB's backoff for a server error, as the SDK reports the delays it drew: a random part
    // of 25 × 2^i ms before retry i. The call took at least that long.
    const backoff = metadata.totalRetryDelay ?? 0
    expect(backoff).toBeGreaterThan(0)
    expect(backoff).toBeLessThan(25 + 50 + 100)
    expect(result.ms).toBeGreaterThanOrEqual(backoff - 1)
    expect(error.$response.headers).toMatchObject({ [INJECTED_HEADER]: 'true' })
    expect(dynamo.take('GetItem')).toBe(0)
  })

  it('throttles with the throttling class the SDK classifies as retryable', async () => {
    // Prepare
    const client = dynamodbClient({ maxAttempts: 2 })
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ error: 'ProvisionedThroughputExceededException' }),
      }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.error).toBeInstanceOf(ProvisionedThroughputExceededException)
    expect(result.metadata).toMatchObject({ httpStatusCode: 400, attempts: 2 })
  })

  it('is not retried when the SDK classifies the error as a client error', async () => {
    // Prepare
    const client = dynamodbClient()
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({ clients: [client], config: fault({ error: 'ValidationException' }) }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.error).toBeInstanceOf(DynamoDBServiceException)
    expect(result.metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 })
  })

  it.each([
    // The first attempt at least 600 ms (stormMs) after the first one: after 12 + 25 + 50 + 100
    // + 200 + 400 ms of backoff, the 7th
    ['server errors', 'InternalServerError', 7],
    // After 500 + 1000 ms, the 3rd
    ['throttling', 'ProvisionedThroughputExceededException', 3],
  ])(
    'recovers when a storm of %s is over: attempts fail for stormMs from the first one, then pass',
    async (_, error, recoveredBy) => {
      // Prepare: the SDK's backoff jitter held at its middle, so its waits are known: 12, 25,
      // 50, 100, 200, 400 ms for a server error (DynamoDB's base 25 ms), 500, 1000 ms for throttling
      const random = vi.spyOn(Math, 'random').mockReturnValue(0.5)
      const stormMs = 600
      const client = dynamodbClient({ maxAttempts: 30 })
      dynamo.take('GetItem')
      let started = 0
      const handler = middy(async () => {
        started = Date.now()
        const first = await outcome(() => client.send(getItem()))
        const next = await outcome(() => client.send(getItem()))
        return { first, next }
      }).use(chaosAwsSdk({ clients: [client], config: fault({ error, stormMs }) }))

      // Act
      const { first, next } = await handler({}, makeContext()).finally(() => random.mockRestore())

      // Assess: retried through the storm, every attempt failed but the last, a real request; the
      // next call goes straight through. Recovered at the first retry after the storm: by the
      // attempt the backoff alone brings past stormMs, or sooner when a busy machine adds to
      // each wait, never later (a storm that outlasted stormMs would take more attempts)
      expect(first.ok).toBe(true)
      const attempts = (first.metadata as Metadata).attempts ?? 0
      expect(attempts).toBeGreaterThanOrEqual(2)
      expect(attempts).toBeLessThanOrEqual(recoveredBy)
      expect(logs.lines.find((line) => line.message === 'Chaos fault ended')).toMatchObject({
        chaos: { faultType: 'aws_sdk', affectedAttempts: attempts - 1, affectedCalls: 1 },
      })
      expect(first.ms).toBeGreaterThanOrEqual(stormMs - 1)
      expect(next).toMatchObject({ ok: true, metadata: { attempts: 1 } })
      const arrivals = dynamo.arrivals('GetItem')
      expect(arrivals).toHaveLength(2)
      for (const at of arrivals) expect(at).toBeGreaterThanOrEqual(started + stormMs)
    },
  )

  it('delays each affected attempt', async () => {
    // Prepare
    const client = dynamodbClient()
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ error: 'InternalServerError', delay: 100, attempts: 2 }),
      }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.ok).toBe(true)
    expect((result.metadata as Metadata).attempts).toBe(3)
    expect(result.ms).toBeGreaterThanOrEqual(
      199 + ((result.metadata as Metadata).totalRetryDelay ?? 0),
    )
  })

  it.each([
    ['ECONNRESET', { name: 'TimeoutError', code: 'ECONNRESET', message: 'read ECONNRESET' }],
    [
      'ECONNREFUSED',
      { name: 'Error', code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1' },
    ],
    ['ENOTFOUND', { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: '127.0.0.1' }],
    ['TimeoutError', { name: 'TimeoutError', code: 'ETIMEDOUT' }],
  ])(
    'throws %s as the Node.js HTTP handler does, retried as a transient error',
    async (error, shape) => {
      // Prepare
      const client = dynamodbClient({ maxAttempts: 3 })
      dynamo.take('GetItem')
      const handler = middy(() => outcome(() => client.send(getItem()))).use(
        chaosAwsSdk({ clients: [client], config: fault({ error }) }),
      )

      // Act
      const result = await handler({}, makeContext())

      // Assess
      expect(result.error).toMatchObject(shape)
      expect(result.metadata).toMatchObject({ attempts: 3 })
      expect(dynamo.take('GetItem')).toBe(0)
    },
  )

  it.each([
    [
      'SSM (awsJson1_1)',
      () => new SSMClient({ region, credentials, maxAttempts: 1 }),
      getParameter,
      SSMServiceException,
    ],
    [
      'CloudWatch (awsJson1_0, query compatible)',
      () => new CloudWatchClient({ region, credentials, maxAttempts: 1 }),
      () => new DescribeAlarmsCommand({}),
      Error,
    ],
    [
      'AppConfigData (restJson1)',
      () => new AppConfigDataClient({ region, credentials, maxAttempts: 1 }),
      () =>
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: 'a',
          EnvironmentIdentifier: 'e',
          ConfigurationProfileIdentifier: 'c',
        }),
      Error,
    ],
  ])(
    'answers %s in its own protocol, and never sends the request',
    async (_, make, command, base) => {
      // Prepare
      const client = make() as SSMClient
      const handler = middy(() => outcome(() => client.send(command() as never))).use(
        chaosAwsSdk({
          clients: [client],
          config: fault({ error: 'ThrottlingException', message: 'slow down' }),
        }),
      )

      // Act
      const result = await handler({}, makeContext())

      // Assess
      expect(result.error).toBeInstanceOf(base)
      expect(result.error).toMatchObject({
        name: 'ThrottlingException',
        message: 'slow down',
        $fault: 'client',
      })
      expect(result.metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 })
    },
  )

  it('answers SSM with its modeled class', async () => {
    const client = ssmClient({ maxAttempts: 1 })
    const handler = middy(() => outcome(() => client.send(getParameter()))).use(
      chaosAwsSdk({ clients: [client], config: fault({ error: 'ThrottlingException' }) }),
    )
    expect((await handler({}, makeContext())).error).toBeInstanceOf(ThrottlingException)
  })
})

describe('chaosAwsSdk: scoped to the invocation', () => {
  const logs = useCapturedLogs()

  it('fails only the matching operation; the others and every call after the invocation reach the service', async () => {
    // Prepare
    const client = dynamodbClient()
    const handler = middy(async () => ({
      put: await outcome(() =>
        client.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'o-2' } } })),
      ),
      get: await outcome(() => client.send(getItem())),
    })).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ service: 'DynamoDB', operation: 'GetItem', error: 'ValidationException' }),
      }),
    )

    // Act
    const result = await handler({}, makeContext())
    const after = await outcome(() => client.send(getItem()))

    // Assess
    expect(result.put.ok).toBe(true)
    expect(result.get.ok).toBe(false)
    expect(after.ok).toBe(true)
  })

  it('leaves other services alone', async () => {
    const client = dynamodbClient()
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({ clients: [client], config: fault({ service: 'S3', error: 'SlowDown' }) }),
    )
    expect((await handler({}, makeContext())).ok).toBe(true)
  })

  it.each([
    [
      'a status-code fault answers without running the handler',
      chaosStatusCode({
        config: {
          version: 1,
          faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
        },
      }),
    ],
    [
      'another middleware answers from its cache (as Powertools Idempotency does)',
      { before: () => helloWorld() },
    ],
  ])('is off after the invocation when %s', async (_, later) => {
    // Prepare
    const client = dynamodbClient()
    const handler = middy(() => outcome(() => client.send(getItem())))
      .use(chaosAwsSdk({ clients: [client], config: fault({ error: 'ValidationException' }) }))
      .use(later)

    // Act
    const answer = await handler(restApiEvent(), makeContext())
    const after = await outcome(() => client.send(getItem()))

    // Assess
    expect(answer).toMatchObject({ statusCode: expect.any(Number) })
    expect(after.ok).toBe(true)
  })

  it('is off after the invocation when the handler throws', async () => {
    // Prepare
    const client = dynamodbClient()
    const throwing = middy(async () => {
      throw new Error('handler failed')
    }).use(chaosAwsSdk({ clients: [client], config: fault({ error: 'InternalServerError' }) }))

    // Act
    await expect(throwing({}, makeContext())).rejects.toThrow('handler failed')
    const after = await outcome(() => client.send(getItem()))

    // Assess
    expect(after).toMatchObject({ ok: true, metadata: { attempts: 1 } })
  })

  it('touches only the interleaved invocation that drew the fault, never a call made outside', async () => {
    // Prepare: every second invocation draws the fault; both wait for each other before calling
    const client = dynamodbClient()
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = middy(async (event: { id: string }) => {
      await gate
      const result = await outcome(() => client.send(getItem()))
      return { id: event.id, ok: result.ok }
    }).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ error: 'ValidationException', every: 2 }),
      }),
    )
    // A call made by other code of the process while both invocations run (a timer set before them)
    const outside = new Promise<Awaited<ReturnType<typeof outcome>>>((resolve) => {
      setTimeout(() => {
        void outcome(() => client.send(getItem())).then(resolve)
      }, 0)
    })

    // Act
    const one = handler({ id: 'one' }, makeContext())
    const two = handler({ id: 'two' }, makeContext())
    const during = await outside
    release()

    // Assess
    expect(await Promise.all([one, two])).toEqual([
      { id: 'one', ok: true },
      { id: 'two', ok: false },
    ])
    expect(during.ok).toBe(true)
  })

  it('touches only the invocation that drew the fault when a local server serves them', async () => {
    // Prepare: a local HTTP server invoking the handler per request, as `middy-chaos serve` does
    const client = dynamodbClient()
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = middy(async () => {
      await gate
      return { statusCode: 200, body: String((await outcome(() => client.send(getItem()))).ok) }
    }).use(
      chaosAwsSdk({ clients: [client], config: fault({ error: 'ValidationException', every: 2 }) }),
    )
    const server = createServer((_, response) => {
      void handler(restApiEvent(), makeContext()).then((answer) => response.end(answer.body))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

    // Act
    const answers = [fetch(url), fetch(url)]
    await new Promise((resolve) => setTimeout(resolve, 50))
    release()
    const bodies = await Promise.all(answers.map(async (answer) => (await answer).text()))
    server.close()

    // Assess
    expect(bodies.sort()).toEqual(['false', 'true'])
  })

  it('changes nothing when the fault does not fire, or in a dry run', async () => {
    // Prepare
    const client = dynamodbClient()
    const call = () => outcome(() => client.send(getItem()))

    // Act
    const off = await middy(call).use(
      chaosAwsSdk({ clients: [client], config: fault({ error: 'InternalServerError', rate: 0 }) }),
    )({}, makeContext())
    const dry = await middy(call).use(
      chaosAwsSdk({
        clients: [client],
        config: fault({ error: 'InternalServerError' }),
        dryRun: true,
      }),
    )({}, makeContext())

    // Assess
    expect(off).toMatchObject({ ok: true, metadata: { attempts: 1 } })
    expect(dry).toMatchObject({ ok: true, metadata: { attempts: 1 } })
    expect(
      logs.lines.find((line) => line.message === 'Chaos fault dry run: not injected'),
    ).toMatchObject({
      chaos: { faultType: 'aws_sdk', dryRun: true, error: 'InternalServerError' },
    })
  })

  it.each([
    [{ service: 'DynamoDB' }, 'faults[0].error: is required unless a delay is given'],
    [
      { error: 'Bad Name!' },
      'faults[0].error: must be a name such as "DynamoDB", "GetItem", "ThrottlingException" (got "Bad Name!")',
    ],
    [
      { error: 'X', httpStatusCode: 200 },
      'faults[0].httpStatusCode: must be an integer from 400 to 599 (got 200)',
    ],
    [
      { error: 'ECONNRESET', httpStatusCode: 503 },
      'faults[0].httpStatusCode: applies to a service error, and "ECONNRESET" is a network error',
    ],
    [
      { delay: 10, message: 'm' },
      'faults[0].message: applies to a service error: give "error" as well',
    ],
    [{ error: 'X', attempts: 2, stormMs: 100 }, 'faults[0].stormMs: conflicts with "attempts"'],
    [{ error: 'X', attempts: 0 }, 'faults[0].attempts: must be an integer from 1 to 100 (got 0)'],
  ])('rejects %j naming the field', async (fields, message) => {
    // Prepare
    const client = dynamodbClient()
    const handler = middy(() => outcome(() => client.send(getItem()))).use(
      chaosAwsSdk({ clients: [client], config: fault(fields) }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.ok).toBe(true)
    expect(String(logs.byLevel('warn')[0]?.issues)).toContain(message)
  })

  it('with the kill switch, leaves the clients as they are', () => {
    vi.stubEnv('CHAOS_DISABLED', 'true')
    const client = dynamodbClient()
    const add = vi.spyOn(client.middlewareStack, 'add')
    chaosAwsSdk({ clients: [client], config: fault({ error: 'X' }) })
    vi.unstubAllEnvs()
    expect(add).not.toHaveBeenCalled()
  })

  it('sits below the retry middleware, innermost, in each client it is given', () => {
    const client = dynamodbClient()
    chaosAwsSdk({ clients: [client], config: fault({ error: 'X' }) })
    const stack = client.middlewareStack.identify()
    expect(stack.indexOf('middyChaosAwsSdk - deserialize')).toBe(stack.length - 1)
    expect(stack.findIndex((entry) => entry.startsWith('retryMiddleware'))).toBeLessThan(
      stack.length - 1,
    )
  })
})
