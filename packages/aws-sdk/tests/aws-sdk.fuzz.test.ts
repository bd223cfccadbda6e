import { NETWORK_ERROR_CODES } from '@middy-chaos/core'
import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type AwsSdkParams, awsSdkFault } from '../src/index.js'

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/
const name = (value: string | undefined) => value === undefined || NAME.test(value)
const integer = (value: number | undefined, min: number, max: number) =>
  value === undefined || (Number.isInteger(value) && value >= min && value <= max)
const transport = (error: string | undefined) =>
  error === 'TimeoutError' || (NETWORK_ERROR_CODES as readonly string[]).includes(error ?? '')

const FIELDS = [
  'service',
  'operation',
  'error',
  'delay',
  'message',
  'httpStatusCode',
  'attempts',
  'stormMs',
] as const

describe('aws-sdk field reader (fuzz)', () => {
  it('accepts names, in-bound numbers, and what each field says only', () => {
    fuzzFieldReader<AwsSdkParams>(awsSdkFault, {
      fields: FIELDS,
      options: { clients: [] },
      inBounds: (p, entry) =>
        FIELDS.every((field) => entry[field] === undefined || entry[field] === p[field]) &&
        name(p.service) &&
        name(p.operation) &&
        name(p.error) &&
        integer(p.delay, 0, 900_000) &&
        integer(p.attempts, 1, 100) &&
        integer(p.stormMs, 1, 900_000) &&
        !(p.attempts !== undefined && p.stormMs !== undefined) &&
        (p.error !== undefined || entry.delay !== undefined) &&
        // A service error has a message and a status; a network error neither.
        (p.error === undefined || transport(p.error)
          ? p.message === undefined && p.httpStatusCode === undefined
          : typeof p.message === 'string' &&
            p.message.length <= 4096 &&
            integer(p.httpStatusCode, 400, 599)),
    })
  })
})
