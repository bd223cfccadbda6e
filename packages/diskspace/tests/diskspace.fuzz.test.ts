import { parseDuration } from '@middy-chaos/core'
import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import {
  DEFAULT_KEEP_FOR_MS,
  type DiskspaceParams,
  diskspaceFault,
  MAX_KEEP_FOR_MS,
  MAX_MEGABYTES,
} from '../src/index.js'

describe('diskspace field reader (fuzz)', () => {
  it('accepts in-bound sizes and keep durations only, and reports everything else', () => {
    fuzzFieldReader<DiskspaceParams>(diskspaceFault, {
      fields: ['megabytes', 'keep', 'keepFor'],
      inBounds: ({ megabytes, keep, keepFor }, entry) => {
        const size =
          (entry.megabytes === undefined ? megabytes === 100 : entry.megabytes === megabytes) &&
          Number.isInteger(megabytes) &&
          megabytes >= 1 &&
          megabytes <= MAX_MEGABYTES
        const kept = entry.keep === undefined ? keep === false : entry.keep === keep
        const time = !keep
          ? keepFor === undefined && entry.keepFor === undefined
          : (entry.keepFor === undefined
              ? keepFor === DEFAULT_KEEP_FOR_MS
              : keepFor === parseDuration(entry.keepFor)) &&
            keepFor !== undefined &&
            keepFor >= 1000 &&
            keepFor <= MAX_KEEP_FOR_MS
        return size && kept && time
      },
    })
  })
})
