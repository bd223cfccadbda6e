import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { HTTP_FAULTS, type HttpParams, httpFault } from '../src/index.js'

const integer = (value: number | undefined, min: number, max: number) =>
  value === undefined || (Number.isInteger(value) && value >= min && value <= max)

describe('http field reader (fuzz)', () => {
  it('accepts host patterns, known faults, in-bound numbers and what each field says only', () => {
    fuzzFieldReader<HttpParams>(httpFault, {
      fields: ['hosts', 'fault', 'delay', 'statusCode', 'body', 'headers'],
      options: { deadlineMargin: 100 },
      inBounds: (p, entry) =>
        Array.isArray(p.hosts) &&
        p.hosts.length >= 1 &&
        p.hosts.length <= 50 &&
        p.hosts.every((host) => /^[a-z0-9.*?:_-]{1,253}$/.test(host)) &&
        (entry.fault === undefined || entry.fault === p.fault) &&
        (p.fault === undefined || (HTTP_FAULTS as readonly string[]).includes(p.fault)) &&
        (p.fault !== undefined || entry.delay !== undefined) &&
        integer(p.delay, 0, 900_000) &&
        (entry.delay === undefined || entry.delay === p.delay) &&
        (p.fault === 'status'
          ? integer(p.statusCode, 200, 599) &&
            (entry.statusCode === undefined || entry.statusCode === p.statusCode)
          : p.statusCode === undefined && p.body === undefined && p.headers === undefined) &&
        (p.body === undefined || p.body.length <= 65_536),
    })
  })
})
