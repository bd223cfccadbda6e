import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type AwsSdkParams, awsSdkFault } from '../src/index.js'

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/
const name = (value: string | undefined) => value === undefined || NAME.test(value)

describe('aws-sdk field reader (fuzz)', () => {
  it('accepts names, in-bound delays and HTTP error statuses only', () => {
    fuzzFieldReader<AwsSdkParams>(awsSdkFault, {
      fields: ['service', 'operation', 'error', 'delay', 'message', 'httpStatusCode'],
      options: { clients: [] },
      inBounds: (p, entry) =>
        (['service', 'operation', 'error', 'delay', 'message', 'httpStatusCode'] as const).every(
          (field) => entry[field] === undefined || entry[field] === p[field],
        ) &&
        name(p.service) &&
        name(p.operation) &&
        name(p.error) &&
        Number.isInteger(p.delay) &&
        p.delay >= 0 &&
        p.delay <= 900_000 &&
        (p.error !== undefined || p.delay >= 0) &&
        typeof p.message === 'string' &&
        p.message.length <= 4096 &&
        Number.isInteger(p.httpStatusCode) &&
        p.httpStatusCode >= 400 &&
        p.httpStatusCode <= 599,
    })
  })
})
