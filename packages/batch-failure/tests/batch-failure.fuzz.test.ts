import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type BatchFailureParams, batchFailureFault } from '../src/index.js'

describe('batch-failure field reader (fuzz)', () => {
  it('accepts record rates from 0 to 1 and whole record limits only', () => {
    fuzzFieldReader<BatchFailureParams>(batchFailureFault, {
      fields: ['recordRate', 'maxRecords'],
      inBounds: ({ recordRate, maxRecords }, entry) =>
        (entry.recordRate === undefined || recordRate === entry.recordRate) &&
        maxRecords === entry.maxRecords &&
        recordRate >= 0 &&
        recordRate <= 1 &&
        (maxRecords === undefined ||
          (Number.isInteger(maxRecords) && maxRecords >= 1 && maxRecords <= 10_000)),
    })
  })
})
