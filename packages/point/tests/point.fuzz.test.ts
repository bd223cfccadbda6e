import { ALTER_LIMITS } from '@middy-chaos/core'
import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { POINT_LIMITS, type PointCalls, type PointParams, pointFault } from '../src/index.js'

const FIELDS = ['name', 'labels', 'delay', 'calls', 'error', 'message', 'set', 'remove'] as const

const calls = (value: PointCalls): boolean =>
  value === 'all' ||
  Object.values(value).every(
    (count) => Number.isInteger(count) && count >= 1 && count <= POINT_LIMITS.calls,
  )

const labels = (value: PointParams['labels']): boolean =>
  value === undefined ||
  (Object.keys(value).length >= 1 &&
    Object.keys(value).length <= POINT_LIMITS.labels &&
    Object.entries(value).every(
      ([label, pattern]) =>
        /^[A-Za-z0-9_.:/-]{1,64}$/.test(label) &&
        !['__proto__', 'constructor', 'prototype'].includes(label) &&
        typeof pattern === 'string' &&
        pattern.length <= POINT_LIMITS.labelValueLength,
    ))

const error = (value: PointParams['error']): boolean =>
  value === undefined ||
  (/^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/.test(value.name) &&
    (value.message === undefined || value.message.length <= POINT_LIMITS.messageLength) &&
    (value.fields === undefined || value.fields.length <= POINT_LIMITS.errorFieldsLength))

describe('point field reader (fuzz)', () => {
  it('accepts names, labels, in-bound numbers, one effect at least, and what each field says only', () => {
    fuzzFieldReader<PointParams>(pointFault, {
      fields: FIELDS,
      // Most entries name a point, so that they reach the other checks; some replace it.
      base: { name: 'orders.charge' },
      inBounds: (p, entry) =>
        typeof p.name === 'string' &&
        p.name === entry.name &&
        /^[A-Za-z0-9_.:/@#*?-]{1,128}$/.test(p.name) &&
        labels(p.labels) &&
        Number.isInteger(p.delay) &&
        p.delay >= 0 &&
        p.delay <= 900_000 &&
        (entry.delay === undefined || entry.delay === p.delay) &&
        calls(p.calls) &&
        error(p.error) &&
        // Something to do, and an error never with data edits.
        (entry.delay !== undefined || p.error !== undefined || p.edits !== undefined) &&
        !(p.error !== undefined && p.edits !== undefined) &&
        (entry.error === undefined) === (p.error === undefined) &&
        (entry.message === undefined || p.error?.message === entry.message) &&
        ((entry.set === undefined && entry.remove === undefined) ||
          (p.edits !== undefined && p.edits.length <= ALTER_LIMITS.edits)),
    })
  })
})
