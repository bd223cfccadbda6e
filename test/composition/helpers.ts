/**
 * What the composition tests share: a chaos config the test can change between
 * invocations (as a store would be changed), an idempotency table on dynalite,
 * and a capture of everything written to the console (Logger's JSON lines,
 * Metrics' EMF blobs and its plain-text warnings).
 */
import { randomUUID } from 'node:crypto'
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { vi } from 'vitest'

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

/**
 * A config store the test drives: `value` is what the next invocation reads
 * (`maxAge: 0`, so every invocation asks), as when an experiment turns faults on and off.
 */
export const switchableConfig = (value: unknown) => {
  const store = {
    value,
    get: async () => store.value,
  }
  return { store, options: { provider: store, parameterName: 'chaos', maxAge: 0 } }
}

/** A fresh DynamoDB table keyed on `id`, as Powertools Idempotency's default persistence layer wants it. */
export const idempotencyTable = async (endpoint: string) => {
  const clientConfig = { endpoint, region: 'us-east-1', credentials }
  const client = new DynamoDBClient(clientConfig)
  const tableName = `idempotency-${randomUUID()}`
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  return {
    tableName,
    clientConfig,
    /** Every record of the table: `{ status, data }` (`data`: the stored result). */
    records: async () => {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }))
      return Items.map((item) => {
        const { status, data } = unmarshall(item) as { status: string; data?: unknown }
        if (data === undefined) return { status }
        return { status, data: typeof data === 'string' ? (JSON.parse(data) as unknown) : data }
      })
    },
  }
}

/** Everything written to the console during a test: raw texts, and the JSON ones parsed. */
export const captureConsole = () => {
  const texts: { method: string; text: string }[] = []
  const spies = (['debug', 'info', 'warn', 'error', 'log'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      texts.push({
        method,
        text: args.map((arg) => (typeof arg === 'string' ? arg : String(arg))).join(' '),
      })
    }),
  )
  const json = () =>
    texts.flatMap(({ text }) => {
      try {
        const value = JSON.parse(text) as unknown
        return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : []
      } catch {
        return []
      }
    })
  return {
    texts,
    /** Logger's JSON lines. */
    lines: () => json().filter((line) => typeof line.level === 'string'),
    /** Metrics' EMF blobs. */
    emf: () => json().filter((line) => '_aws' in line),
    /** Lines whose text contains `part`, JSON or not. */
    containing: (part: string) => texts.filter(({ text }) => text.includes(part)),
    restore: () => {
      for (const spy of spies) spy.mockRestore()
    },
  }
}
