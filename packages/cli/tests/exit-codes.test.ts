/**
 * Every exit code of `experiment run` that the README's table documents, one
 * case each, with the built CLI as a user (or a CI script) runs it: 2 for
 * what it was given (before anything is written), 1 for a failure while it
 * ran, and the codes of how a run ends.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { acquireLease } from '@middy-chaos/fis/local'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { FileStore } from '../src/stores/index.js'
import { assertCliBuilt, type CliProcess, repoRoot, runCli, startCli } from './helpers.js'

const BEFORE = '{"is_enabled":false,"fault_type":"latency","delay":400,"rate":1}'
const ON = { name: 'S01_On', set: { is_enabled: true, fault_type: 'latency', delay: 10 } }
/** A port `fetch` refuses at once: a probe there does not answer, and the run is refused. */
const REFUSED = 'http://127.0.0.1:1/'

let dir: string
/** A URL that answers every request 503: every request of a probe there is an error. */
let FAILING: string
let failing: Server
beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-exit-'))
  failing = createServer((_request, response) => {
    response.statusCode = 503
    response.end('down')
  })
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve))
  FAILING = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`
})
afterAll(async () => {
  failing?.closeAllConnections()
  await new Promise((resolve) => failing?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

let count = 0
/** A file store holding BEFORE, in a directory of its own. */
const fileStore = async () => {
  const home = join(dir, `store-${++count}`)
  await mkdir(home)
  const param = join(home, 'config.json')
  await writeFileValue(param, BEFORE, { label: 'setup' })
  return { home, param, args: ['--param', param] }
}
const experimentFile = async (content: Record<string, unknown>) => {
  const file = join(dir, `experiment-${++count}.json`)
  await writeFile(file, JSON.stringify({ name: `exit-${count}`, ...content }))
  return file
}
const hold = (wait: string) => experimentFile({ steps: [ON, { name: 'S02_Hold', wait }] })
/** Starts a run and resolves once its hold step runs. */
const startHolding = async (args: string[]): Promise<CliProcess> => {
  const cli = startCli(args)
  await cli.waitFor(/S02_Hold\s+running/)
  return cli
}
/**
 * Resolves once the hold step has renewed the value in force, as it does when
 * it starts (history: setup, S01_On, the renewal): no write of the run is then
 * under way.
 */
const renewed = async (param: string) => {
  while ((await readFileHistory(param)).length < 3) await new Promise((r) => setTimeout(r, 20))
}

/** The codes of the README's table, `130 / 143 / 129` as three, in increasing order. */
const documentedCodes = async (): Promise<number[]> => {
  const readme = await readFile(join(repoRoot, 'packages/cli/README.md'), 'utf8')
  const table = readme.split('Exit codes of `experiment run`:')[1]?.split('\n\n')[1] ?? ''
  return table
    .split('\n')
    .flatMap((row) => /^\| ([0-9 /]+) \|/.exec(row)?.[1]?.split('/') ?? [])
    .map(Number)
    .sort((a, b) => a - b)
}

/** What a case saw: the exit code, the output, and the store's value after it. */
interface Ending {
  code: number | null
  output: string
  after: string
}

/** A case: a run holding for a minute, sent `signal`. */
const interrupted = (signal: NodeJS.Signals) => async (): Promise<Ending> => {
  const store = await fileStore()
  const cli = await startHolding(['experiment', 'run', await hold('1m'), ...store.args])
  cli.child.kill(signal)
  const { code } = await cli.exited
  return { code, output: cli.stdout() + cli.stderr(), after: await readFile(store.param, 'utf8') }
}

/** One case per documented code. */
const cases: Record<number, () => Promise<Ending>> = {
  0: async () => {
    const store = await fileStore()
    const run = await runCli(['experiment', 'run', await hold('100ms'), ...store.args])
    return {
      code: run.code,
      output: run.stdout + run.stderr,
      after: await readFile(store.param, 'utf8'),
    }
  },
  // A runtime failure: another writer changes the parameter, so the next step's write fails.
  1: async () => {
    const store = await fileStore()
    const file = await experimentFile({
      steps: [
        ON,
        { name: 'S02_Hold', wait: '1s' },
        { name: 'S03_Off', set: { is_enabled: false } },
      ],
    })
    const cli = await startHolding(['experiment', 'run', file, ...store.args])
    await renewed(store.param)
    await writeFileValue(store.param, '{"is_enabled":false}', { label: 'someone else' })
    const { code } = await cli.exited
    return { code, output: cli.stdout() + cli.stderr(), after: await readFile(store.param, 'utf8') }
  },
  2: async () => {
    const store = await fileStore()
    const run = await runCli([
      'experiment',
      'run',
      await hold('1s'),
      '--stop-if',
      'errors>>20%',
      ...store.args,
    ])
    return {
      code: run.code,
      output: run.stdout + run.stderr,
      after: await readFile(store.param, 'utf8'),
    }
  },
  // The restore fails: the store's directory is gone (a file stands in its place).
  3: async () => {
    const store = await fileStore()
    const cli = await startHolding(['experiment', 'run', await hold('1s'), ...store.args])
    await renewed(store.param)
    await rm(store.home, { recursive: true })
    await writeFile(store.home, 'not a directory')
    const { code } = await cli.exited
    await rm(store.home)
    return { code, output: cli.stdout() + cli.stderr(), after: '(the store is gone)' }
  },
  4: async () => {
    const store = await fileStore()
    const run = await runCli([
      'experiment',
      'run',
      await hold('30s'),
      '--probe',
      FAILING,
      // Not served by middy-chaos serve: no cache window announced; nothing to settle here
      '--settle',
      '0',
      '--interval',
      '20ms',
      '--stop-if',
      'errors>50%',
      ...store.args,
    ])
    return {
      code: run.code,
      output: run.stdout + run.stderr,
      after: await readFile(store.param, 'utf8'),
    }
  },
  5: async () => {
    const store = await fileStore()
    const lease = await acquireLease(new FileStore(store.param), {
      experiment: 'another',
      ttlMs: 60_000,
    })
    const run = await runCli(['experiment', 'run', await hold('100ms'), ...store.args])
    await lease.release()
    return {
      code: run.code,
      output: run.stdout + run.stderr,
      after: await readFile(store.param, 'utf8'),
    }
  },
  6: async () => {
    const store = await fileStore()
    const run = await runCli([
      'experiment',
      'run',
      await hold('200ms'),
      '--probe',
      FAILING,
      // Not served by middy-chaos serve: no cache window announced; nothing to settle here
      '--settle',
      '0',
      '--interval',
      '20ms',
      '--expect',
      'errors==0',
      ...store.args,
    ])
    return {
      code: run.code,
      output: run.stdout + run.stderr,
      after: await readFile(store.param, 'utf8'),
    }
  },
  // The terminal is closed.
  129: interrupted('SIGHUP'),
  130: interrupted('SIGINT'),
  // The reader of its output went away (`| head -1`): its next line, a probe's, fails with EPIPE.
  141: async () => {
    const store = await fileStore()
    const cli = await startHolding([
      'experiment',
      'run',
      await hold('1m'),
      '--probe',
      FAILING,
      // Not served by middy-chaos serve: no cache window announced; nothing to settle here
      '--settle',
      '0',
      '--interval',
      '50ms',
      ...store.args,
    ])
    cli.child.stdout?.destroy()
    const { code } = await cli.exited
    return { code, output: cli.stdout() + cli.stderr(), after: await readFile(store.param, 'utf8') }
  },
  143: interrupted('SIGTERM'),
}

/** What each ending says, and what the store holds after it: restored, or never written. */
const expected: Record<number, { says: RegExp; after: string }> = {
  0: { says: /Restored .* to its pre-experiment value/, after: BEFORE },
  1: { says: /middy-chaos: step S03_Off failed: .*changed by another writer/, after: BEFORE },
  2: { says: /^middy-chaos: stop condition "errors>>20%" is not a threshold/, after: BEFORE },
  3: { says: /RESTORE FAILED/, after: '(the store is gone)' },
  4: { says: /middy-chaos: stopped by probe threshold "errors>50%"/, after: BEFORE },
  5: { says: /is held by experiment another .*nothing was changed/, after: BEFORE },
  6: {
    says: /middy-chaos: 1 expectation failed \(exit 6\); the parameter was restored/,
    after: BEFORE,
  },
  129: { says: /middy-chaos: SIGHUP: stopping the experiment/, after: BEFORE },
  130: { says: /middy-chaos: SIGINT: stopping the experiment/, after: BEFORE },
  141: {
    says: /middy-chaos: the output is closed \(write EPIPE on stdout\): stopping the experiment/,
    after: BEFORE,
  },
  143: { says: /middy-chaos: SIGTERM: stopping the experiment/, after: BEFORE },
}

describe('the exit codes of experiment run', () => {
  it('are the codes of the README table, one case each', async () => {
    expect(await documentedCodes()).toEqual(Object.keys(cases).map(Number))
  })

  it.each(Object.keys(cases).map(Number))(
    'exits with %i as documented',
    async (documented) => {
      // Act
      const { code, output, after } = await (cases[documented] as () => Promise<Ending>)()

      // Assess
      expect(code, output).toBe(documented)
      expect(output).toMatch(expected[documented]?.says as RegExp)
      expect(after).toBe(expected[documented]?.after)
    },
    30_000,
  )
})

describe('what it was given is wrong: exit 2, one line, nothing written', () => {
  const missingAlarm = ['--stop-on-alarm', 'no-such-alarm']
  it.each([
    ['a malformed --expect', async () => [await hold('1s'), '--expect', 'p95<<1s']],
    ['a malformed --stop-if', async () => [await hold('1s'), '--stop-if', 'errors>>20%']],
    ['--interval 0', async () => [await hold('1s'), '--interval', '0']],
    ['an --expect without --probe', async () => [await hold('1s'), '--expect', 'errors==0']],
    [
      'an invalid experiment file',
      async () => [await experimentFile({ steps: [{ name: 'x', wait: 'soon' }] })],
    ],
    [
      'a wait past 12 hours',
      async () => [await experimentFile({ steps: [{ name: 'x', wait: 'PT12H0.5S' }] })],
    ],
    ['waits past 12 hours once scaled', async () => [await hold('2h'), '--time-scale', '7']],
    ['a stop alarm that does not exist', async () => [await hold('1s'), ...missingAlarm]],
    ['a --probe URL that does not answer', async () => [await hold('1s'), '--probe', REFUSED]],
  ])('%s', async (_, args) => {
    // Prepare
    const store = await fileStore()

    // Act
    const { code, stdout, stderr } = await runCli(
      ['experiment', 'run', ...(await args()), ...store.args],
      { env: { AWS_ENDPOINT_URL_CLOUDWATCH: inject('motoEndpoint'), AWS_REGION: 'us-east-1' } },
    )

    // Assess
    expect(code, stderr).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^middy-chaos: \S[^\n]*\n$/)
    expect(await readFileHistory(store.param)).toHaveLength(1)
  })
})
