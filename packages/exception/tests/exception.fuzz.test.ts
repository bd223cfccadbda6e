import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type ExceptionParams, exceptionFault } from '../src/index.js'

describe('exception field reader (fuzz)', () => {
  it('accepts bounded string messages and error names only', () => {
    fuzzFieldReader<ExceptionParams>(exceptionFault, {
      fields: ['message', 'errorName'],
      inBounds: ({ message, errorName }, entry) =>
        (entry.message === undefined || message === entry.message) &&
        errorName === entry.errorName &&
        typeof message === 'string' &&
        message.length <= 4096 &&
        (errorName === undefined || (typeof errorName === 'string' && errorName.length <= 128)),
    })
  })
})
