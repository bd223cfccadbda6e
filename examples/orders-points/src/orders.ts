import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency'
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence'
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import type { ChaosMiddlewareOptions } from '@middy-chaos/core'
import { chaosPoint, chaosPoints } from '@middy-chaos/point'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import type { Charge, Order, Payments } from './payments.js'

/** What the orders function is made of; a test gives each part. */
export interface OrdersOptions {
  readonly dynamodb: DynamoDBClient
  /** The table orders are saved to (key `id`). */
  readonly ordersTable: string
  readonly payments: Payments
  /**
   * The fix: where Powertools Idempotency keeps a record of each order's
   * charge (a `DynamoDBPersistenceLayer`), so that a retried order gets the
   * charge it already has instead of a new one. Without it, every attempt of
   * an order charges the card.
   */
  readonly chargeRecords?: BasePersistenceLayer
  /** Options of the chaos middleware (a static `config` in tests; `CHAOS_PARAM` deployed). */
  readonly chaos?: ChaosMiddlewareOptions
}

const badRequest = (message: string): APIGatewayProxyResult => ({
  statusCode: 400,
  body: JSON.stringify({ message }),
})

/** The order in a request's body, or why it is not one. */
const readOrder = (event: APIGatewayProxyEvent): Order | string => {
  try {
    const { orderId, amount } = JSON.parse(event.body ?? '') as Partial<Order>
    if (typeof orderId !== 'string' || orderId.length === 0) return 'orderId is required'
    if (!Number.isInteger(amount) || (amount as number) <= 0) return 'amount must be cents, > 0'
    return { orderId, amount: amount as number }
  } catch {
    return 'the body is not JSON'
  }
}

/**
 * `POST /orders`: charges the card, then saves the order. If the save fails
 * after the charge, the client sees an error and retries the same order: the
 * card is charged again, unless the charge is idempotent (`chargeRecords`).
 * The failure point `orders.save` sits between the two, where an outage of
 * the orders table would strike.
 */
export const makeOrdersHandler = ({
  dynamodb,
  ordersTable,
  payments,
  chargeRecords,
  chaos = {},
}: OrdersOptions) => {
  const idempotency = new IdempotencyConfig({ eventKeyJmesPath: 'orderId' })
  const chargeCard: (order: Order) => Promise<Charge> =
    chargeRecords === undefined
      ? (order) => payments.charge(order)
      : makeIdempotent((order: Order) => payments.charge(order), {
          persistenceStore: chargeRecords,
          config: idempotency,
        })

  const placeOrder = async (
    event: APIGatewayProxyEvent,
    context: Context,
  ): Promise<APIGatewayProxyResult> => {
    const order = readOrder(event)
    if (typeof order === 'string') return badRequest(order)
    // An INPROGRESS record expires with the invocation: a retry after a timeout may charge again.
    idempotency.registerLambdaContext(context)
    const { chargeId } = await chargeCard(order)
    await chaosPoint('orders.save', { labels: { table: 'orders' } })
    await dynamodb.send(
      new PutItemCommand({
        TableName: ordersTable,
        Item: {
          id: { S: order.orderId },
          amount: { N: String(order.amount) },
          chargeId: { S: chargeId },
        },
      }),
    )
    return { statusCode: 201, body: JSON.stringify({ orderId: order.orderId, chargeId }) }
  }

  return middy(placeOrder)
    .use(chaosPoints(chaos))
    .use(httpErrorHandler({ logger: false }))
}
