/**
 * Vitest setup file: property and fuzz tests draw from a fixed seed, so that a
 * run of `pnpm test` (and CI) is reproducible and a failure can be replayed.
 * `FUZZ_SEED=random` draws a new seed each run (`pnpm bench` does, with
 * 100,000 documents); `FUZZ_SEED=<n>` replays seed n, as fast-check prints it
 * with a counterexample.
 */
import fc from 'fast-check'

const seed = process.env.FUZZ_SEED ?? '20261201'
if (seed !== 'random') fc.configureGlobal({ seed: Number(seed) })
