/**
 * The experiment of `experiments/save-fails-after-charge.json`, played in a
 * test: its fault config, as a static config, against the orders function,
 * with a client that retries a failed order as clients do. The orders and the
 * idempotency records are in DynamoDB (dynalite here, started by the
 * repository's test setup); the payment provider is a local HTTP server that
 * keeps a ledger of the charges it made.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import {
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ScanCommand,
} from '@aws-sdk/client-dynamodb'
import { describeConfig, loadExperiment, toFisExperiment } from '@middy-chaos/cli'
import type { ChaosConfigInput } from '@middy-chaos/core'
import type { APIGatewayProxyResult } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { makeOrdersHandler } from '../src/orders.js'
import { httpPayments, type Order } from '../src/payments.js'

const experimentFile = fileURLToPath(
  new URL('../experiments/save-fails-after-charge.json', import.meta.url),
)

/** The payment provider: every POST /charges is a new charge in its ledger. */
const ledger: { id: string; reference: string; amount: number }[] = []
let provider: Server
let providerUrl = ''

let clientConfig: DynamoDBClientConfig
let dynamodb: DynamoDBClient

const createTable = async () => {
  const tableName = `orders-points-${randomUUID()}`
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  return tableName
}

beforeAll(async () => {
  provider = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      const { reference, amount } = JSON.parse(body) as { reference: string; amount: number }
      const charge = { id: `ch_${randomUUID()}`, reference, amount }
      ledger.push(charge)
      response.writeHead(201, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ id: charge.id }))
    })
  })
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve))
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`
  clientConfig = {
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }
  dynamodb = new DynamoDBClient(clientConfig)
  // The chaos middleware logs each fault it injects: keep the output quiet.
  vi.spyOn(console, 'info').mockImplementation(() => undefined)
})

afterAll(async () => {
  provider.closeAllConnections()
  await new Promise((resolve) => provider.close(resolve))
})

/** The config the experiment's step `name` writes. */
/** A step's value, as `experiment run` writes it (checked by `experiment validate`, and at run time). */
const stepConfig = async (name: string): Promise<ChaosConfigInput> => {
  const experiment = await loadExperiment(experimentFile)
  const step = experiment.steps.find((candidate) => candidate.name === name)
  return JSON.parse(step?.set ?? 'null') as ChaosConfigInput
}

/**
 * The experiment's step S01 against a fresh function and tables: a client
 * places `count` orders, retrying each on a 5xx up to 3 attempts. What the
 * client saw, what the provider charged and what the orders table holds.
 */
const play = async ({
  fix,
  step = 'S01_FailSaveAfterCharge',
  count = 4,
}: {
  fix: boolean
  step?: string
  count?: number
}) => {
  const ordersTable = await createTable()
  const handler = makeOrdersHandler({
    dynamodb,
    ordersTable,
    payments: httpPayments(providerUrl),
    ...(fix
      ? {
          chargeRecords: new DynamoDBPersistenceLayer({
            tableName: await createTable(),
            clientConfig,
          }),
        }
      : {}),
    chaos: { config: await stepConfig(step) },
  })
  const orders: Order[] = Array.from({ length: count }, (_, index) => ({
    orderId: `order-${randomUUID()}`,
    amount: 1000 + index,
  }))
  const placed: { order: Order; attempts: number; answer: APIGatewayProxyResult }[] = []
  for (const order of orders) {
    let attempts = 0
    let answer: APIGatewayProxyResult
    do {
      attempts += 1
      answer = await handler(
        { httpMethod: 'POST', path: '/orders', body: JSON.stringify(order) } as never,
        {
          awsRequestId: randomUUID(),
          functionName: 'orders',
          getRemainingTimeInMillis: () => 6000,
        } as never,
      )
    } while (answer.statusCode >= 500 && attempts < 3)
    placed.push({ order, attempts, answer })
  }
  const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: ordersTable }))
  return orders.map((order) => {
    const { attempts, answer } = placed.find((entry) => entry.order === order) as (typeof placed)[0]
    return {
      attempts,
      status: answer.statusCode,
      charges: ledger
        .filter((charge) => charge.reference === order.orderId)
        .map((charge) => charge.id),
      saved: Items.find((item) => item.id?.S === order.orderId)?.chargeId?.S,
      answered: (JSON.parse(answer.body) as { chargeId?: string }).chargeId,
    }
  })
}

describe('the experiment file', () => {
  it('is a valid experiment whose first step turns a point fault on, and exports to FIS as it is', async () => {
    // Act
    const experiment = await loadExperiment(experimentFile)
    const { fis } = toFisExperiment(experiment)

    // Assess
    expect(describeConfig(experiment.steps[0]?.set)).toBe(
      'point orders.save{table=orders}: ProvisionedThroughputExceededException',
    )
    expect(fis.steps.map((step) => step.turnsFaultsOn)).toEqual([true, false, false])
  })
})

describe('a save that fails after the charge, and the client retries', () => {
  it('with faults off, places each order at the first attempt with one charge', async () => {
    // Act
    const orders = await play({ fix: false, step: 'S03_FaultsOff' })

    // Assess
    for (const order of orders) {
      expect(order).toMatchObject({ attempts: 1, status: 201 })
      expect(order.charges).toHaveLength(1)
      expect(order.saved).toBe(order.charges[0])
    }
  })

  it('charges the card again on the retry: the experiment shows the double charge', async () => {
    // Act
    const orders = await play({ fix: false })

    // Assess: every second invocation failed the save, after the charge
    expect(orders.map((order) => order.attempts)).toEqual([1, 2, 2, 2])
    for (const order of orders) {
      expect(order.status).toBe(201)
      // One charge per attempt: a retried order is charged twice, and the first charge is saved nowhere.
      expect(order.charges).toHaveLength(order.attempts)
      expect(order.saved).toBe(order.charges.at(-1))
    }
    expect(orders.filter((order) => order.charges.length > 1)).toHaveLength(3)
  })

  it('with Powertools Idempotency around the charge, the same experiment charges every order once', async () => {
    // Act
    const orders = await play({ fix: true })

    // Assess: the same failures and retries, one charge per order, and it is the one saved
    expect(orders.map((order) => order.attempts)).toEqual([1, 2, 2, 2])
    for (const order of orders) {
      expect(order.status).toBe(201)
      expect(order.charges).toHaveLength(1)
      expect(order.saved).toBe(order.charges[0])
      expect(order.answered).toBe(order.charges[0])
    }
  })
})
