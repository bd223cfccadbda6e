import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { makeOrdersHandler } from './orders.js'
import { httpPayments } from './payments.js'

/**
 * The deployed function: orders in `ORDERS_TABLE`, charges through the
 * provider at `PAYMENTS_URL`, each order's charge recorded in
 * `IDEMPOTENCY_TABLE` (the fix), the chaos config read from the store named
 * by `CHAOS_PARAM`. Tests build their own from `makeOrdersHandler`, and never
 * import this module (creating the middleware starts fetching the config).
 */
export const handler = makeOrdersHandler({
  dynamodb: new DynamoDBClient({}),
  ordersTable: process.env.ORDERS_TABLE ?? 'orders',
  payments: httpPayments(process.env.PAYMENTS_URL ?? 'https://payments.example.com'),
  chargeRecords: new DynamoDBPersistenceLayer({
    tableName: process.env.IDEMPOTENCY_TABLE ?? 'idempotency',
  }),
})
