import { isHeaderName } from '@middy-chaos/core'
import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type StatusCodeParams, statusCodeFault } from '../src/index.js'

describe('status-code field reader (fuzz)', () => {
  it('accepts statuses from 100 to 599 with string bodies and headers only', () => {
    fuzzFieldReader<StatusCodeParams>(statusCodeFault, {
      fields: ['statusCode', 'preventExecution', 'body', 'headers'],
      inBounds: ({ statusCode, preventExecution, body, headers }, entry) =>
        statusCode === entry.statusCode &&
        (entry.preventExecution === undefined || preventExecution === entry.preventExecution) &&
        (typeof entry.body !== 'string' || body === entry.body) &&
        (entry.headers === undefined || headers === undefined || typeof headers === 'object') &&
        Number.isInteger(statusCode) &&
        statusCode >= 100 &&
        statusCode <= 599 &&
        typeof preventExecution === 'boolean' &&
        (body === undefined || typeof body === 'string') &&
        (headers === undefined ||
          Object.entries(headers).every(
            ([name, v]) => isHeaderName(name) && typeof v === 'string' && !/[\r\n\0]/.test(v),
          )),
    })
  })
})
