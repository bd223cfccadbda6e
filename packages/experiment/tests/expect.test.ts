/**
 * Expectations: their syntax (shared with the probe stop conditions), how they
 * are read from an experiment file, and how they judge a step's requests.
 */

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ProbeSample } from '../src/index.js'
import {
  CliError,
  type Expectation,
  judge,
  judgedSamples,
  parseExpectation,
  parseExpectations,
  parseExperiment,
  parseProbeThreshold,
  parseThreshold,
} from '../src/index.js'

const EXPECTATION = { noun: 'expectation', window: false } as const

let seq = 0
const sample = (status: number, seconds: number, more: Partial<ProbeSample> = {}): ProbeSample => ({
  seq: ++seq,
  startedAtMs: seq * 100,
  seconds,
  status,
  body: status === 0 ? '(ECONNREFUSED)' : 'Hello from Lambda!',
  phase: 'S02_Hold',
  phaseAtEnd: 'S02_Hold',
  straddles: false,
  phaseOffsetMs: 0,
  ...more,
})

const messageOf = (run: () => unknown): string => {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    return (error as Error).message
  }
  throw new Error('did not throw')
}

describe('the threshold syntax', () => {
  it.each([
    ['2xx>=99%', { metric: '2xx', kind: 'share', of: '2xx', operator: '>=', value: 0.99 }],
    ['errors==0', { metric: 'errors', kind: 'share', of: 'errors', operator: '==', value: 0 }],
    ['non-2xx < 0.05', { metric: 'non-2xx', kind: 'share', operator: '<', value: 0.05 }],
    ['404>=90%', { metric: '404', kind: 'share', of: '404', value: 0.9 }],
    ['000==0%', { metric: '000', kind: 'share', of: '000', value: 0 }],
    ['count(5xx)<=2', { metric: 'count(5xx)', kind: 'count', of: '5xx', value: 2 }],
    ['COUNT( errors )==0', { metric: 'count(errors)', kind: 'count', of: 'errors', value: 0 }],
    ['requests>=10', { metric: 'requests', kind: 'count', of: 'all', value: 10 }],
    ['p95<500ms', { metric: 'p95', kind: 'latency', operator: '<', value: 0.5 }],
    ['p50>=0.4', { metric: 'p50', kind: 'latency', value: 0.4 }],
    ['p99<2s', { metric: 'p99', kind: 'latency', value: 2 }],
  ])('reads %j', (text, expected) => {
    expect(parseThreshold(text, EXPECTATION)).toMatchObject(expected)
  })

  it('reads the stop conditions as before, with their window', () => {
    expect(parseProbeThreshold('errors>20%')).toMatchObject({
      metric: 'errors',
      operator: '>',
      value: 0.2,
      windowMs: 10_000,
    })
    expect(parseProbeThreshold('p95>2s over 30s')).toMatchObject({ value: 2, windowMs: 30_000 })
    expect(parseProbeThreshold('count(errors)>=3 over 5s')).toMatchObject({
      kind: 'count',
      value: 3,
      windowMs: 5000,
    })
  })

  it.each([
    ['p95<fast', /^expectation "p95<fast" is not a threshold: <metric><op><value>/],
    ['2xx=>99%', /is not a threshold/],
    ['2xx>=150%', /2xx is a share, from 0 to 1 or 0% to 100%/],
    ['errors>=2', /errors is a share/],
    ['2xx>=99ms', /2xx is a share/],
    ['count(errors)<=1.5', /count\(errors\) is a number of requests, such as 0 or 3/],
    ['requests>=10%', /requests is a number of requests/],
    ['p95<50%', /p95 is a time, such as 500ms or 2s/],
    ['6xx==0', /6xx is not a status class \(1xx to 5xx\)/],
    ['700==0', /700 is not an HTTP status \(100 to 599, or 000 for no answer\)/],
    ['p95<1s over 30s', /"over <window>" is for stop conditions/],
  ])('refuses %j, saying why', (text, message) => {
    expect(messageOf(() => parseThreshold(text, EXPECTATION))).toMatch(message)
  })

  it('reads any threshold it can write, and refuses anything else with a CliError', () => {
    const metric = fc.oneof(
      fc.constantFrom('errors', 'non-2xx', '2xx', '3xx', '4xx', '5xx', '404', '000', '503'),
      fc.constantFrom('count(errors)', 'count(5xx)', 'requests', 'p50', 'p90', 'p95', 'p99'),
    )
    const operator = fc.constantFrom('>', '>=', '<', '<=', '==')
    fc.assert(
      fc.property(metric, operator, fc.integer({ min: 0, max: 100 }), (m, op, n) => {
        const value = m.startsWith('p')
          ? `${n * 10}ms`
          : m === 'requests' || m.startsWith('count')
            ? String(n)
            : `${n}%`
        const threshold = parseThreshold(`${m}${op}${value}`, EXPECTATION)
        expect(threshold.operator).toBe(op)
        expect(threshold.value).toBeCloseTo(
          m.startsWith('p') ? n / 100 : m === 'requests' || m.startsWith('count') ? n : n / 100,
        )
      }),
    )
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 })), (raw) => {
        try {
          parseExpectation(raw)
        } catch (error) {
          expect(error).toBeInstanceOf(CliError)
        }
      }),
    )
  })
})

describe('body expectations', () => {
  it('reads the exact body or a regular expression for a status or a class', () => {
    expect(parseExpectation({ status: 200, body: 'Hello from Lambda!' })).toEqual({
      kind: 'body',
      text: 'body of 200 == "Hello from Lambda!"',
      status: '200',
      body: 'Hello from Lambda!',
    })
    expect(parseExpectation({ status: '5xx', bodyMatches: 'Internal' })).toMatchObject({
      text: 'body of 5xx matches /Internal/',
      status: '5xx',
    })
    expect(parseExpectation({ status: 0, bodyMatches: 'ECONN' })).toMatchObject({ status: '000' })
  })

  it('names every mistake of an entry', () => {
    const problems: string[] = []
    parseExpectations(
      [
        'p95<1s',
        { status: 200 },
        { status: 200, body: 'a', bodyMatches: 'b' },
        { status: 700, body: 'x' },
        { status: '2xx', bodyMatches: '(' },
        { status: 200, body: 3, extra: true },
        42,
      ],
      'steps[1].expect',
      problems,
    )
    expect(problems).toEqual([
      'steps[1].expect[1]: needs "body" (the exact body) or "bodyMatches" (a regular expression), one of them',
      'steps[1].expect[2]: needs "body" (the exact body) or "bodyMatches" (a regular expression), one of them',
      'steps[1].expect[3].status: must be an HTTP status (200, or "000" for no answer) or a class ("5xx")',
      expect.stringMatching(/^steps\[1\]\.expect\[4\]\.bodyMatches: not a regular expression/),
      'steps[1].expect[5].extra: unknown field (use "status" with "body" or "bodyMatches")',
      'steps[1].expect[5].body: must be a string',
      expect.stringMatching(/^steps\[1\]\.expect\[6\]: must be a threshold such as "2xx>=99%"/),
    ])
  })
})

describe('judge', () => {
  const expectations = (...specs: unknown[]): Expectation[] => specs.map(parseExpectation)
  const step = [
    ...Array.from({ length: 18 }, (_, i) => sample(200, 0.4 + i / 1000)),
    sample(503, 0.01, { body: '{"message":"down"}' }),
    sample(0, 2),
  ]

  it('measures shares, counts and latencies over the requests, and says what it saw', () => {
    expect(
      judge(
        expectations(
          '2xx>=90%',
          '2xx>=99%',
          'errors==0',
          'count(5xx)<=1',
          'count(000)==0',
          'requests>=20',
          'p50>=400ms',
          'p95<1s',
          'p99<1s',
        ),
        step,
      ),
    ).toEqual([
      { expectation: '2xx>=90%', held: true, measured: '2xx 90% (18 of 20)', requests: 20 },
      { expectation: '2xx>=99%', held: false, measured: '2xx 90% (18 of 20)', requests: 20 },
      { expectation: 'errors==0', held: false, measured: 'errors 10% (2 of 20)', requests: 20 },
      {
        expectation: 'count(5xx)<=1',
        held: true,
        measured: 'count(5xx) 1 (20 requests)',
        requests: 20,
      },
      {
        expectation: 'count(000)==0',
        held: false,
        measured: 'count(000) 1 (20 requests)',
        requests: 20,
      },
      { expectation: 'requests>=20', held: true, measured: 'requests 20', requests: 20 },
      { expectation: 'p50>=400ms', held: true, measured: 'p50 0.408s (20 requests)', requests: 20 },
      { expectation: 'p95<1s', held: true, measured: 'p95 0.417s (20 requests)', requests: 20 },
      { expectation: 'p99<1s', held: false, measured: 'p99 2.000s (20 requests)', requests: 20 },
    ])
  })

  it('checks the body of every answer with the status; none with it holds', () => {
    const verdicts = judge(
      expectations(
        { status: 200, body: 'Hello from Lambda!' },
        { status: '5xx', body: 'Hello from Lambda!' },
        { status: '5xx', bodyMatches: '"message"' },
        { status: 404, body: 'Not here' },
      ),
      step,
    )
    expect(verdicts.map((v) => [v.held, v.measured])).toEqual([
      [true, '18 of 18 answers 200 as expected'],
      [false, '1 of 1 answers 5xx had another body, such as "{\\"message\\":\\"down\\"}"'],
      [true, '1 of 1 answers 5xx as expected'],
      [true, 'no answer 404 (of 20)'],
    ])
  })

  it('fails an expectation over no request, except on the number of requests', () => {
    expect(
      judge(expectations('2xx>=99%', 'count(errors)==0', 'requests==0', 'p95<1s'), []).map((v) => [
        v.expectation,
        v.held,
        v.measured,
      ]),
    ).toEqual([
      ['2xx>=99%', false, 'no requests to judge'],
      ['count(errors)==0', false, 'no requests to judge'],
      ['requests==0', true, 'requests 0'],
      ['p95<1s', false, 'no requests to judge'],
    ])
  })

  it('judges a step with its own requests that saw one config', () => {
    const mine = sample(200, 0.1)
    const straddling = sample(502, 3, { straddles: true })
    const other = sample(404, 0.1, { phase: 'S04_Hold', phaseAtEnd: 'S04_Hold' })
    expect(judgedSamples([mine, straddling, other], new Set(['S02_Hold']))).toEqual([mine])
  })

  it('leaves out a request that started in the settling time after a write', () => {
    // Prepare: one the function may have answered from its cache, one past the settling time
    const settling = sample(200, 0.004, { settling: true })
    const settled = sample(200, 0.404)

    // Act / Assess: the verdict is over the settled one only
    expect(judgedSamples([settling, settled], new Set(['S02_Hold']))).toEqual([settled])
    expect(
      judge(expectations('p50>=400ms'), judgedSamples([settling, settled], new Set(['S02_Hold']))),
    ).toEqual([
      { expectation: 'p50>=400ms', held: true, measured: 'p50 0.404s (1 requests)', requests: 1 },
    ])
  })
})

describe('expectations in an experiment file', () => {
  const latency = { is_enabled: true, fault_type: 'latency', delay: 200, rate: 1 }

  it('reads them on the steps and on the experiment', () => {
    const experiment = parseExperiment({
      name: 'x',
      expect: ['errors==0'],
      steps: [
        { name: 'on', set: latency },
        { name: 'hold', wait: '1s', expect: ['p50>=200ms', { status: 200, body: 'Hello' }] },
      ],
    })
    expect(experiment.expect?.map((e) => e.text)).toEqual(['errors==0'])
    expect(experiment.steps[0]?.expect).toBeUndefined()
    expect(experiment.steps[1]?.expect?.map((e) => e.text)).toEqual([
      'p50>=200ms',
      'body of 200 == "Hello"',
    ])
  })

  it('names each mistake by its field, in the one message of an invalid experiment', () => {
    const message = messageOf(() =>
      parseExperiment(
        {
          name: 'x',
          expect: 'errors==0',
          steps: [
            { name: 'on', set: latency, expect: ['p95<fast'] },
            { name: 'hold', wait: '1s', expect: ['2xx>=99%', { status: 200 }] },
            { name: 'only', expect: ['p95<1s'] },
          ],
        },
        'x.json',
      ),
    )
    expect(message).toMatch(/^invalid experiment x\.json: /)
    expect(message.replace(/^invalid experiment x\.json: /, '').split('; ')).toEqual([
      'expect: must be an array of expectations, such as ["2xx>=99%", "p95<500ms"]',
      expect.stringMatching(/^steps\[0\]\.expect\[0\]: expectation "p95<fast" is not a threshold/),
      'steps[1].expect[1]: needs "body" (the exact body) or "bodyMatches" (a regular expression), one of them',
      'steps[2]: needs "set" (a chaos config) or "wait" (a duration), or both',
    ])
  })
})
