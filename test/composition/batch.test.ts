/**
 * An SQS consumer written with Powertools' BatchProcessor and
 * `processPartialResponse`, with chaos around it: what each fault does to a
 * batch.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import middy from '@middy/core'
import { chaosBatchFailure } from '@middy-chaos/batch-failure'
import { ChaosInjectedError } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosStatusCode } from '@middy-chaos/status-code'
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { makeContext, useCapturedLogs } from '../helpers/index.js'

const record = (messageId: string, body: string) =>
  ({
    messageId,
    body,
    eventSource: 'aws:sqs',
    receiptHandle: messageId,
    attributes: {},
    messageAttributes: {},
    md5OfBody: '',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord
const batch = (): SQSEvent => ({
  Records: [record('m-1', 'tea'), record('m-2', 'poison'), record('m-3', 'coffee')],
})

const consumer = () => {
  const processed: string[] = []
  const processor = new BatchProcessor(EventType.SQS)
  const recordHandler = async ({ body, messageId }: SQSRecord) => {
    if (body === 'poison') throw new Error('cannot parse')
    processed.push(messageId)
  }
  const handler = middy(async (event: SQSEvent, context: Context) =>
    processPartialResponse(event, recordHandler, processor, { context }),
  )
  return { handler, processed }
}

describe('chaos with Powertools BatchProcessor', () => {
  const logs = useCapturedLogs()

  it('batch_failure after the handler adds records to the partial batch response, keeping the real ones', async () => {
    const { handler, processed } = consumer()
    handler.use(
      chaosBatchFailure({
        config: { version: 1, faults: [{ type: 'batch_failure', maxRecords: 1 }] },
      }),
    )

    const response = await handler(batch(), makeContext())

    expect(processed).toEqual(['m-1', 'm-3'])
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-2' }, { itemIdentifier: 'm-1' }],
    })
  })

  it('an exception before the handler fails the whole batch: Lambda retries every record', async () => {
    const { handler, processed } = consumer()
    handler.use(chaosException({ config: { version: 1, faults: [{ type: 'exception' }] } }))

    await expect(handler(batch(), makeContext())).rejects.toBeInstanceOf(ChaosInjectedError)
    expect(processed).toEqual([])
  })

  it('a status code answered before the handler is refused for a batch: it is processed, with a warning', async () => {
    const { handler, processed } = consumer()
    handler.use(
      chaosStatusCode({
        config: {
          version: 1,
          faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
        },
      }),
    )

    expect(await handler(batch(), makeContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-2' }],
    })
    expect(processed).toEqual(['m-1', 'm-3'])
    expect(logs.byLevel('warn').map((line) => line.message)).toEqual([
      'Status-code fault skipped: the event is not an HTTP request',
    ])
  })
})
