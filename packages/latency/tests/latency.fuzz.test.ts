import { describe, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type LatencyParams, latencyFault, MAX_DELAY_MS } from '../src/index.js'

const ms = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_DELAY_MS

describe('latency field reader (fuzz)', () => {
  it('accepts in-bound delays only, and reports everything else', () => {
    fuzzFieldReader<LatencyParams>(latencyFault, {
      fields: ['delay', 'minDelay', 'maxDelay'],
      inBounds: ({ minDelay, maxDelay }, entry) => {
        const range = entry.delay as { min?: unknown; max?: unknown } | undefined
        const says =
          typeof entry.delay === 'number'
            ? minDelay === entry.delay && maxDelay === entry.delay
            : range !== undefined
              ? minDelay === range.min && maxDelay === range.max
              : (entry.minDelay === undefined || entry.minDelay === minDelay) &&
                (entry.maxDelay === undefined || entry.maxDelay === maxDelay)
        const alone = entry.delay === undefined || (entry.minDelay ?? entry.maxDelay) === undefined
        return says && alone && ms(minDelay) && ms(maxDelay) && minDelay <= maxDelay
      },
    })
  })
})
