import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { DEFAULT_BUFFER_MS, MAX_BUFFER_MS, type TimeoutParams, timeoutFault } from '../src/index.js'

describe('timeout field reader (fuzz)', () => {
  it('accepts in-bound modes and buffers only, and reports everything else', () => {
    fuzzFieldReader<TimeoutParams>(timeoutFault, {
      fields: ['mode', 'buffer'],
      inBounds: ({ mode, buffer }, entry) => {
        const says =
          (entry.mode === undefined ? mode === 'hold' : entry.mode === mode) &&
          (entry.buffer === undefined
            ? buffer === DEFAULT_BUFFER_MS[mode]
            : entry.buffer === buffer)
        return says && Number.isInteger(buffer) && buffer >= 0 && buffer <= MAX_BUFFER_MS
      },
    })
  })
})
