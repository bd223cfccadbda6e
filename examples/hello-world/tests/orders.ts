/**
 * A function of your own to test under chaos: it reads an order from DynamoDB
 * and answers 503 with `Retry-After` when DynamoDB throttles it. In your
 * project this is `src/orders.ts`; the chain is built by a function taking
 * the DynamoDB client and the chaos options, so that a test can give both.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import { chaosAwsSdk } from '@middy-chaos/aws-sdk'
import type { ChaosMiddlewareOptions } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'
import type { APIGatewayProxyEvent } from 'aws-lambda'

const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException'])

export const makeOrdersHandler = ({
  dynamodb = new DynamoDBClient({}),
  tableName = process.env.ORDERS_TABLE ?? 'orders',
  chaos = {},
}: {
  dynamodb?: DynamoDBClient
  tableName?: string
  chaos?: ChaosMiddlewareOptions
} = {}) => {
  const getOrder = async (event: APIGatewayProxyEvent) => {
    const id = event.pathParameters?.id ?? ''
    try {
      const { Item } = await dynamodb.send(
        new GetItemCommand({ TableName: tableName, Key: { id: { S: id } } }),
      )
      if (Item === undefined) return { statusCode: 404, body: '{"message":"No such order"}' }
      return { statusCode: 200, body: JSON.stringify({ id, status: Item.status?.S }) }
    } catch (error) {
      if (!THROTTLED.has((error as Error).name)) throw error
      // The behaviour under test: a throttled read is a retryable 503, not a 500.
      return {
        statusCode: 503,
        headers: { 'retry-after': '1' },
        body: '{"message":"Busy, try again"}',
      }
    }
  }
  return middy(getOrder)
    .use(chaosStatusCode(chaos))
    .use(chaosAwsSdk({ clients: [dynamodb], ...chaos }))
    .use(httpErrorHandler({ logger: false }))
}
