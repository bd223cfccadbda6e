import middy from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { describe, expect, it } from 'vitest'
import { makeContext, untypedConfig, useCapturedLogs } from '../../../test/helpers/index.js'
import type { BatchFailureEntry } from '../src/index.js'
import { chaosBatchFailure, itemIdentifier } from '../src/index.js'

const sqsEvent = (n: number) => ({
  Records: Array.from({ length: n }, (_, i) => ({
    messageId: `m-${i}`,
    eventSource: 'aws:sqs',
    body: `{"order":${i}}`,
  })),
})
const kinesisEvent = (n: number) => ({
  Records: Array.from({ length: n }, (_, i) => ({
    eventSource: 'aws:kinesis',
    kinesis: { sequenceNumber: `4959${i}`, data: 'e30=' },
  })),
})
const dynamoEvent = (n: number) => ({
  Records: Array.from({ length: n }, (_, i) => ({
    eventSource: 'aws:dynamodb',
    dynamodb: { SequenceNumber: `1110${i}` },
  })),
})

const consumer = (seen: string[], failures: { itemIdentifier: string }[] = []) =>
  middy(async (event: { Records: { messageId?: string }[] }) => {
    for (const record of event.Records) seen.push(record.messageId ?? 'record')
    return { batchItemFailures: failures }
  })

const config = (fields: Omit<BatchFailureEntry, 'type'> = {}): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'batch_failure', ...fields }],
})

describe('chaosBatchFailure', () => {
  const logs = useCapturedLogs()

  it('runs the handler, then reports every record of an SQS batch as failed', async () => {
    const seen: string[] = []
    const handler = consumer(seen).use(chaosBatchFailure({ config: config() }))
    const response = await handler(sqsEvent(3), makeContext())
    expect(seen).toEqual(['m-0', 'm-1', 'm-2'])
    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'm-0' },
        { itemIdentifier: 'm-1' },
        { itemIdentifier: 'm-2' },
      ],
    })
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'batch_failure', phase: 'after', batchSize: 3, failedRecords: 3 },
    })
  })

  it("keeps the handler's own failures and adds the injected ones once", async () => {
    const handler = consumer([], [{ itemIdentifier: 'm-1' }]).use(
      chaosBatchFailure({ config: config({ maxRecords: 2 }) }),
    )
    expect(await handler(sqsEvent(4), makeContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-0' }],
    })
  })

  it('answers a handler that returned nothing with a partial batch response', async () => {
    const handler = middy(async () => undefined).use(
      chaosBatchFailure({ config: config({ maxRecords: 1 }) }),
    )
    expect(await handler(sqsEvent(2), makeContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-0' }],
    })
  })

  it('reports a fraction of the records with recordRate', async () => {
    const handler = consumer([]).use(chaosBatchFailure({ config: config({ recordRate: 0.3 }) }))
    let failed = 0
    for (let i = 0; i < 50; i++) {
      const response = (await handler(sqsEvent(10), makeContext())) as {
        batchItemFailures: unknown[]
      }
      failed += response.batchItemFailures.length
    }
    // 500 records at 0.3: mean 150, sd ~10
    expect(failed).toBeGreaterThan(150 - 40)
    expect(failed).toBeLessThan(150 + 40)
  })

  it('uses sequence numbers for Kinesis and DynamoDB streams', async () => {
    const handler = middy(async () => ({ batchItemFailures: [] })).use(
      chaosBatchFailure({ config: config({ maxRecords: 1 }) }),
    )
    expect(await handler(kinesisEvent(2), makeContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: '49590' }],
    })
    expect(await handler(dynamoEvent(2), makeContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: '11100' }],
    })
    expect(itemIdentifier({ foo: 1 })).toBeUndefined()
  })

  it('leaves an event that is not a batch, or a response that is not a batch response, alone with a warning', async () => {
    const api = middy(async () => ({ statusCode: 200, body: 'ok' })).use(
      chaosBatchFailure({ config: config() }),
    )
    expect(await api({ httpMethod: 'GET' }, makeContext())).toEqual({ statusCode: 200, body: 'ok' })
    const odd = middy(async () => 'done').use(chaosBatchFailure({ config: config() }))
    expect(await odd(sqsEvent(1), makeContext())).toBe('done')
    expect(logs.byLevel('warn')).toHaveLength(2)
    expect(logs.injected()).toEqual([])
  })

  it.each([
    [{ recordRate: 2 }, 'faults[0].recordRate: must be a number from 0 to 1 (got 2)'],
    [{ maxRecords: 0 }, 'faults[0].maxRecords: must be an integer from 1 to 10000 (got 0)'],
    [
      { phase: 'before' },
      'faults[0].phase: "before" is not a phase this batch_failure middleware registered (after)',
    ],
  ])('rejects %j naming the bound', async (fields, message) => {
    // Values the types reject, on purpose: what the library does with them at run time.
    const handler = consumer([]).use(
      chaosBatchFailure({
        config: untypedConfig({ version: 1, faults: [{ type: 'batch_failure', ...fields }] }),
      }),
    )
    expect(await handler(sqsEvent(2), makeContext())).toEqual({ batchItemFailures: [] })
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })
})
