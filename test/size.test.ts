/**
 * The size budget: what a user ships for the workshop's three faults (a
 * minified esbuild bundle, AWS SDK external; `node bench/size.mjs` prints the
 * breakdown) cannot grow by accident. Raise the budget on purpose, in the same
 * change that explains why.
 */
import { describe, expect, it } from 'vitest'
import { measureBundle } from '../bench/bundle.mjs'

/**
 * This project's own code in the bundle, measured at 41.5 KB on 2026-12-01, then 44.8 KB once
 * injected failures travel through the chain as real ones (issue 13: HTTP failures through
 * `onError`, the chain's Powertools middlewares located, Idempotency records released, fault
 * lines with the invocation's Lambda context: +2.7 KB), then 49.0 KB with store requests ended
 * at their bound and headers checked (+1.3 KB) and the invocation scopes loaded by every chain
 * (+1.9 KB). Then 41.5 KB: the scopes only with a fault that acts on calls, the failure-lambda
 * reader (6.3 KB) only in a function that asks for it (`useFailureLambdaFormat()`).
 * Then 42.5 KB, and 46.8 KB with injected faults in traces (issue 23: Powertools Tracer and
 * OpenTelemetry, +4.3 KB, in every function since an OpenTelemetry SDK is found at run time).
 * Then 48.3 KB (issue 24, +1.5 KB): what keeps a function loaded from node_modules from
 * loading the code it runs only with a fault on (the runner behind an `import()`, which a
 * one-file bundle inlines with a small wrapper; the failure-lambda reader loaded when a
 * document needs it; status texts read without an ESM import of node:http, which loads
 * undici). In a bundle every byte is read at the cold start, used or not (about 0.06 ms a KB
 * on the project's machine): `node bench/size.mjs` and `node bench/coldstart.mjs` say what
 * the three faults add over the stack they are built on. Then 49.0 KB (+0.5 KB): strict mode
 * for a static config, and the typed config's runtime checks of a document written in code.
 * Then 49.7 KB (+0.7 KB): the built-in SSM store as a Powertools `BaseProvider` of its own,
 * which loads the SSM client with an `import()` a bundler leaves as it is; Powertools'
 * `SSMProvider` (5.2 KB) leaves the bundle, and a function whose config comes from anywhere
 * else no longer loads the SSM client at its cold start.
 */
const OWN_BUDGET = 50 * 1024
/**
 * The whole bundle (Middy, Powertools Logger and Parameters included), 79.7, 83.8, 88.0, 80.6,
 * 86.1, 87.5, 88.2, then 83.4 KB. The example traces with Powertools Tracer, left out of the measure (its X-Ray SDK
 * is the function's choice: `node bench/size.mjs` prints the bundle with it).
 */
const TOTAL_BUDGET = 84 * 1024

describe('the size of a function with the workshop faults', () => {
  it(`stays within ${OWN_BUDGET / 1024} KB of our code and ${TOTAL_BUDGET / 1024} KB in all`, async () => {
    const { own, total, byPackage, sources } = await measureBundle()
    expect(own, JSON.stringify(byPackage)).toBeLessThanOrEqual(OWN_BUDGET)
    expect(total, JSON.stringify(byPackage)).toBeLessThanOrEqual(TOTAL_BUDGET)
    // The local file store never ships in a function's bundle (its source modules, as the
    // source maps of the packages' chunked lib/ name them).
    expect(sources.filter((source) => /core\/src\/file-(store|provider)/.test(source))).toEqual([])
  })
})
