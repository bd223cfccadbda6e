import type { MiddlewareObj } from '@middy/core'
import {
  type ChaosEntryFields,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  type FaultDefinition,
  isRecord,
} from '@middy-chaos/core'

/** Options of {@link chaosBatchFailure}. */
export type ChaosBatchFailureOptions = ChaosMiddlewareOptions

/** Parameters of a batch-failure fault, as read from the config. */
export interface BatchFailureParams {
  /** Probability that each record of the batch is reported failed, 0..1. */
  recordRate: number
  /** At most this many records reported failed per invocation. */
  maxRecords?: number
}

/**
 * A `batch_failure` entry of a middy-chaos document, as written.
 *
 * @example
 * ```ts
 * const entry: BatchFailureEntry = { type: 'batch_failure', recordRate: 0.1, maxRecords: 5 }
 * ```
 */
export interface BatchFailureEntry extends ChaosEntryFields {
  readonly type: 'batch_failure' | 'batch_item_failures' | 'partial_batch_failure'
  /** Probability that each record is reported failed, 0 to 1 (default 1). */
  readonly recordRate?: number
  /** At most this many records reported per invocation. */
  readonly maxRecords?: number
  readonly phase?: 'after'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    batch_failure: BatchFailureEntry
  }
}

interface BatchItemFailure {
  itemIdentifier: string
}

/**
 * The identifier Lambda expects in `batchItemFailures` for a record: the
 * message id for SQS, the sequence number for Kinesis and DynamoDB streams.
 */
export const itemIdentifier = (record: unknown): string | undefined => {
  if (!isRecord(record)) return undefined
  if (typeof record.messageId === 'string') return record.messageId
  if (isRecord(record.kinesis) && typeof record.kinesis.sequenceNumber === 'string') {
    return record.kinesis.sequenceNumber
  }
  if (isRecord(record.dynamodb) && typeof record.dynamodb.SequenceNumber === 'string') {
    return record.dynamodb.SequenceNumber
  }
  return undefined
}

/**
 * The batch-failure fault: reports records of an SQS, Kinesis or DynamoDB
 * stream batch as failed in the partial batch response (`batchItemFailures`),
 * so that Lambda retries them. `recordRate` (default 1: every record) and
 * `maxRecords`.
 */
export const batchFailureFault: FaultDefinition<BatchFailureParams> = {
  type: 'batch_failure',
  aliases: ['batch_item_failures', 'partial_batch_failure'],
  package: '@middy-chaos/batch-failure',
  factory: 'chaosBatchFailure',
  summary:
    'reports SQS, Kinesis and DynamoDB stream records as failed in the partial batch response',
  phases: ['after'],
  defaultPhase: 'after',
  parse(fields) {
    const recordRate = fields.number('recordRate', { min: 0, max: 1, default: 1 })
    const maxRecords = fields.number('maxRecords', { min: 1, max: 10_000, integer: true })
    if (recordRate === undefined || (fields.has('maxRecords') && maxRecords === undefined)) {
      return undefined
    }
    return maxRecords === undefined ? { recordRate } : { recordRate, maxRecords }
  },
  plan({ params, request, logger }) {
    const records = isRecord(request.event) ? request.event.Records : undefined
    const response = request.response as unknown
    const responseOk =
      response === undefined ||
      response === null ||
      (isRecord(response) &&
        (response.batchItemFailures === undefined || Array.isArray(response.batchItemFailures)))
    if (!Array.isArray(records) || !responseOk) {
      logger.warn('Batch-failure fault skipped: not a batch event with a partial batch response', {
        chaos: { faultType: 'batch_failure' },
        awsRequestId: request.context?.awsRequestId,
      })
      return undefined
    }
    const limit = params.maxRecords ?? Number.POSITIVE_INFINITY
    const failed: BatchItemFailure[] = []
    for (const record of records) {
      if (failed.length >= limit) break
      const id = itemIdentifier(record)
      if (id !== undefined && (params.recordRate >= 1 || Math.random() < params.recordRate)) {
        failed.push({ itemIdentifier: id })
      }
    }
    if (failed.length === 0) return undefined
    return {
      details: { batchSize: records.length, failedRecords: failed.length },
      run: () => {
        const existing = isRecord(response)
          ? (response.batchItemFailures as BatchItemFailure[] | undefined)
          : undefined
        const seen = new Set((existing ?? []).map((item) => item.itemIdentifier))
        request.response = {
          ...(isRecord(response) ? response : {}),
          batchItemFailures: [
            ...(existing ?? []),
            ...failed.filter((item) => !seen.has(item.itemIdentifier)),
          ],
        }
      },
    }
  },
  describe: ({ recordRate, maxRecords }) =>
    `batch failure ${recordRate >= 1 ? 'every record' : `${Math.round(recordRate * 1000) / 10}% of records`}${maxRecords === undefined ? '' : ` (at most ${maxRecords})`}`,
  flags: [
    {
      name: 'record-rate',
      field: 'recordRate',
      type: 'number',
      description: 'share of the records reported failed, 0 to 1',
    },
    {
      name: 'max-records',
      field: 'maxRecords',
      type: 'integer',
      description: 'at most this many records per invocation',
    },
  ],
}

/**
 * Makes an SQS, Kinesis or DynamoDB stream consumer report records as failed
 * when the chaos config has a `batch_failure` fault: the handler runs, then
 * the chosen records are added to its partial batch response
 * (`batchItemFailures`), and Lambda retries them. Rehearses poison messages,
 * retries, DLQs and stream back-pressure without breaking the consumer.
 * Needs `ReportBatchItemFailures` on the event source mapping.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosBatchFailure } from '@middy-chaos/batch-failure'
 *
 * export const handler = middy(processOrders).use(chaosBatchFailure())
 * // {"version":1,"faults":[{"type":"batch_failure","recordRate":0.1}]} → ~10% of records retried
 * ```
 */
export const chaosBatchFailure = (options: ChaosBatchFailureOptions = {}): MiddlewareObj =>
  createFaultMiddleware(batchFailureFault, options)
