import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  alwaysFires,
  MAX_BUDGET,
  MAX_SEED,
  MAX_WINDOW_MS,
  mulberry32,
  parseRateFields,
  policyKey,
  type RatePolicy,
  Sampler,
} from '../../src/rate.js'
import type { ConfigIssue } from '../../src/types.js'

/** Fixed fast-check seed: the statistical properties below are deterministic. */
const FC = { seed: 20_240_401, numRuns: 200 } as const

const parse = (fields: Record<string, unknown>, rate = 1, path = 'faults[0]') => {
  const issues: ConfigIssue[] = []
  const policy = parseRateFields(fields, rate, path, issues)
  return { policy, issues }
}

const run = (sampler: Sampler, n: number, now: (i: number) => number = () => 0): boolean[] =>
  Array.from({ length: n }, (_, i) => sampler.shouldFire(now(i)))

describe('mulberry32', () => {
  it('returns numbers in [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), (seed) => {
        const random = mulberry32(seed)
        for (let i = 0; i < 100; i++) {
          const value = random()
          if (!(value >= 0 && value < 1)) return false
        }
        return true
      }),
    )
  })

  it('gives the same sequence for the same seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), (seed) => {
        const a = mulberry32(seed)
        const b = mulberry32(seed)
        for (let i = 0; i < 50; i++) if (a() !== b()) return false
        return true
      }),
    )
  })

  it('is stable across versions for a known seed', () => {
    const random = mulberry32(42)
    expect(random()).toBe(0.6011037519201636)
    expect(random()).toBe(0.44829055899754167)
  })
})

describe('Sampler: random rate', () => {
  it('fires within 3 standard deviations of rate × 10,000 over 10,000 invocations', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 0, max: MAX_SEED }),
        (rate, seed) => {
          // Prepare
          const n = 10_000
          const sampler = new Sampler({ rate, seed })
          // Act
          const fired = run(sampler, n).filter(Boolean).length
          // Assess
          const sigma = Math.sqrt(n * rate * (1 - rate))
          return Math.abs(fired - n * rate) <= 3 * sigma
        },
      ),
      FC,
    )
  })

  it('never fires at rate 0 and always fires at rate 1', () => {
    const never = new Sampler({ rate: 0 })
    const always = new Sampler({ rate: 1 })
    expect(run(never, 1000).some(Boolean)).toBe(false)
    expect(run(always, 1000).every(Boolean)).toBe(true)
  })

  it('fires when the draw is below the rate', () => {
    const draws = [0.1, 0.5, 0.49, 0.9]
    const sampler = new Sampler({ rate: 0.5 }, { random: () => draws.shift() ?? 1 })
    expect(run(sampler, 4)).toEqual([true, false, true, false])
  })

  it('gives the same sequence for the same seed, whatever the policy', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
        fc.integer({ min: 0, max: MAX_SEED }),
        (rate, every, seed) => {
          const policy: RatePolicy = { rate, seed, ...(every === undefined ? {} : { every }) }
          const a = run(new Sampler(policy), 500)
          const b = run(new Sampler(policy), 500)
          return a.every((fired, i) => fired === b[i])
        },
      ),
    )
  })

  it('lets an explicit random source win over the seed', () => {
    const sampler = new Sampler({ rate: 0.5, seed: 1 }, { random: () => 0 })
    expect(run(sampler, 20).every(Boolean)).toBe(true)
  })

  it('does not fire, and does not throw, when the random source throws or returns garbage', () => {
    const throwing = new Sampler(
      { rate: 0.5 },
      {
        random: () => {
          throw new Error('boom')
        },
      },
    )
    const garbage = new Sampler({ rate: 0.5 }, { random: () => Number.NaN })
    expect(throwing.shouldFire()).toBe(false)
    expect(garbage.shouldFire()).toBe(false)
  })
})

describe('Sampler: every Nth invocation', () => {
  it('fires exactly on multiples of N', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 500 }), (every, n) => {
        const fired = run(new Sampler({ rate: 1, every }), n)
        return fired.every((value, i) => value === ((i + 1) % every === 0))
      }),
    )
  })

  it('with a rate, fires only on multiples of N, drawing once per multiple', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: MAX_SEED }),
        (every, rate, seed) => {
          let draws = 0
          const random = mulberry32(seed)
          const sampler = new Sampler(
            { rate, every },
            {
              random: () => {
                draws += 1
                return random()
              },
            },
          )
          const fired = run(sampler, 200)
          const onMultiples = fired.every((value, i) => !value || (i + 1) % every === 0)
          const expectedDraws = rate > 0 && rate < 1 ? Math.floor(200 / every) : 0
          return onMultiples && draws === expectedDraws
        },
      ),
    )
  })
})

/** Injection times never put more than `max` in any window [t, t + windowMs). */
const withinBudget = (times: readonly number[], max: number, windowMs: number): boolean => {
  let start = 0
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= windowMs) start += 1
    if (end - start + 1 > max) return false
  }
  return true
}

describe('Sampler: budget', () => {
  const arrivals = fc
    .array(fc.integer({ min: 0, max: 300 }), { minLength: 0, maxLength: 400 })
    .map((gaps) => {
      let time = 1_700_000_000_000
      return gaps.map((gap) => {
        time += gap
        return time
      })
    })

  it('never exceeds max injections in any window, over random arrival times', () => {
    fc.assert(
      fc.property(
        arrivals,
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: MAX_SEED }),
        (times, max, windowMs, rate, seed) => {
          const sampler = new Sampler({ rate, seed, budget: { max, windowMs } })
          const injected = times.filter((time) => sampler.shouldFire(time))
          return withinBudget(injected, max, windowMs)
        },
      ),
      FC,
    )
  })

  it('fires whenever fewer than max injections fall in the last windowMs (a reference model)', () => {
    fc.assert(
      fc.property(
        arrivals,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 2_000 }),
        (times, max, windowMs) => {
          const sampler = new Sampler({ rate: 1, budget: { max, windowMs } })
          const model: number[] = []
          return times.every((time) => {
            const allowed = model.filter((t) => time - t < windowMs).length < max
            if (allowed) model.push(time)
            return sampler.shouldFire(time) === allowed
          })
        },
      ),
    )
  })

  it('counts only injections, after the every-Nth and rate checks', () => {
    const sampler = new Sampler({ rate: 1, every: 2, budget: { max: 1, windowMs: 1000 } })
    expect(run(sampler, 6, (i) => i)).toEqual([false, true, false, false, false, false])
    expect(sampler.shouldFire(1001)).toBe(false) // 7th: not a multiple of 2
    expect(sampler.shouldFire(1002)).toBe(true) // window of the first injection (t=1) has passed
  })

  it('never fires with max 0', () => {
    const sampler = new Sampler({ rate: 1, budget: { max: 0, windowMs: 10 } })
    expect(run(sampler, 100, (i) => i * 100).some(Boolean)).toBe(false)
  })

  it('keeps the guarantee when the clock goes backwards', () => {
    const sampler = new Sampler({ rate: 1, budget: { max: 2, windowMs: 1000 } })
    expect(sampler.shouldFire(5000)).toBe(true)
    expect(sampler.shouldFire(5001)).toBe(true)
    expect(sampler.shouldFire(100)).toBe(false) // read as 5001
    expect(sampler.shouldFire(5999)).toBe(false)
    expect(sampler.shouldFire(6000)).toBe(true)
  })

  it('uses Date.now() when no time, or a non-finite one, is given', () => {
    const sampler = new Sampler({ rate: 1, budget: { max: 1, windowMs: 60_000 } })
    expect(sampler.shouldFire()).toBe(true)
    expect(sampler.shouldFire(Number.NaN)).toBe(false)
  })
})

describe('Sampler: plain rate 1', () => {
  it('is the always-fire fast path', () => {
    expect(alwaysFires({ rate: 1 })).toBe(true)
    expect(alwaysFires({ rate: 1, every: 1, seed: 3 })).toBe(true)
    expect(alwaysFires({ rate: 0.5 })).toBe(false)
    expect(alwaysFires({ rate: 1, every: 2 })).toBe(false)
    expect(alwaysFires({ rate: 1, budget: { max: 5, windowMs: 1000 } })).toBe(false)
  })

  it('does not draw from the random source', () => {
    let draws = 0
    const sampler = new Sampler(
      { rate: 1 },
      {
        random: () => {
          draws += 1
          return 0
        },
      },
    )
    run(sampler, 100)
    expect(draws).toBe(0)
  })
})

describe('parseRateFields', () => {
  it('reads every, budget and seed', () => {
    const { policy, issues } = parse(
      { every: 3, budget: { max: 5, windowMs: 60_000 }, seed: 42 },
      0.5,
    )
    expect(issues).toEqual([])
    expect(policy).toEqual({ rate: 0.5, every: 3, budget: { max: 5, windowMs: 60_000 }, seed: 42 })
  })

  it('gives a plain policy when no rate field is set, ignoring other fields', () => {
    expect(parse({ type: 'latency', delay: 100 }, 0.25)).toEqual({
      policy: { rate: 0.25 },
      issues: [],
    })
  })

  it('names the field and the bound', () => {
    expect(parse({ every: 0 }).issues).toEqual([
      { path: 'faults[0].every', message: 'must be an integer of at least 1 (got 0)' },
    ])
    expect(parse({ every: 2.5 }).issues[0]?.message).toBe(
      'must be an integer of at least 1 (got 2.5)',
    )
    expect(parse({ every: '3' }).issues[0]?.message).toBe(
      'must be an integer of at least 1 (got "3")',
    )
    expect(parse({ seed: -1 }).issues).toEqual([
      { path: 'faults[0].seed', message: `must be an integer from 0 to ${MAX_SEED} (got -1)` },
    ])
    expect(parse({ budget: 5 }).issues).toEqual([
      {
        path: 'faults[0].budget',
        message: 'must be an object { "max": integer, "windowMs": integer } (got 5)',
      },
    ])
  })

  it('checks each budget field, and refuses unknown ones', () => {
    expect(parse({ budget: { max: -1, windowMs: 0 } }).issues).toEqual([
      {
        path: 'faults[0].budget.max',
        message: `must be an integer from 0 to ${MAX_BUDGET} (got -1)`,
      },
      {
        path: 'faults[0].budget.windowMs',
        message: `must be an integer from 1 to ${MAX_WINDOW_MS} ms (got 0)`,
      },
    ])
    expect(parse({ budget: { max: 5, per: '1m' } }).issues).toEqual([
      {
        path: 'faults[0].budget.per',
        message: 'is not a budget field (expected "max" and "windowMs")',
      },
      {
        path: 'faults[0].budget.windowMs',
        message: `is required: an integer from 1 to ${MAX_WINDOW_MS} ms`,
      },
    ])
  })

  it('returns undefined when any field is invalid, reporting all of them', () => {
    const { policy, issues } = parse({ every: 0, seed: 'x', budget: { max: 1, windowMs: 1 } })
    expect(policy).toBeUndefined()
    expect(issues.map((issue) => issue.path)).toEqual(['faults[0].every', 'faults[0].seed'])
  })

  it('uses bare field names for a top-level entry', () => {
    expect(parse({ every: 0 }, 1, '').issues[0]?.path).toBe('every')
  })

  it('clamps a rate it was handed outside 0..1', () => {
    expect(parse({}, 2).policy?.rate).toBe(1)
    expect(parse({}, -1).policy?.rate).toBe(0)
    expect(parse({}, Number.NaN).policy?.rate).toBe(0)
  })

  it('never throws, whatever the fields', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('every', 'budget', 'seed', 'rate', 'other'),
          fc.anything({ withNullPrototype: true, withObjectString: true }),
        ),
        fc.anything(),
        (fields, rate) => {
          const issues: ConfigIssue[] = []
          const policy = parseRateFields(fields, rate as number, 'faults[1]', issues)
          if (policy !== undefined) new Sampler(policy).shouldFire(0)
          return policy !== undefined || issues.length > 0
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('policyKey', () => {
  it('is equal for equal policies and differs otherwise', () => {
    const a = parse({ every: 2, budget: { windowMs: 10, max: 1 } }).policy as RatePolicy
    const b = parse({ budget: { max: 1, windowMs: 10 }, every: 2 }).policy as RatePolicy
    expect(policyKey(a)).toBe(policyKey(b))
    expect(policyKey(a)).not.toBe(policyKey({ ...a, seed: 1 }))
    expect(policyKey({ rate: 0.5, every: 2 })).toBe('r=0.5;e=2;b=;s=')
  })
})
