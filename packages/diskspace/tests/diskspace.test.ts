/*
 * The fault's tests and failure-lambda's README configs in one file: vitest runs files in
 * parallel, and a 100 MB write beside the free-space measures would blur them.
 */
import { mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import middy from '@middy/core'
import type { ChaosConfig, ChaosConfigInput, FailureLambdaV0Config } from '@middy-chaos/core'
import { parseConfig } from '@middy-chaos/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  V0_SSM_PARAMETER,
  V1_CONFIGURATION,
} from '../../../test/formats/failure-lambda.fixtures.js'
import { helloWorld, makeContext, useCapturedLogs } from '../../../test/helpers/index.js'
import {
  type ChaosDiskspaceOptions,
  chaosDiskspace,
  type DiskspaceEntry,
  diskspaceFault,
  FILE_PREFIX,
  MAX_MEGABYTES,
  MB,
  releaseKeptFiles,
} from '../src/index.js'

const diskspace = (fields: Omit<DiskspaceEntry, 'type'> = {}): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'diskspace', ...fields }],
})

/** Free MB in a directory's filesystem, as an unprivileged writer sees it. */
const freeMb = (dir: string) => {
  const { bavail, bsize } = statfsSync(dir)
  return (bavail * bsize) / MB
}

/** The fault's files in a directory, with their size and the space they take, in MB. */
const fills = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.startsWith(FILE_PREFIX))
    .map((name) => {
      const stat = statSync(join(dir, name))
      return { name, megabytes: stat.size / MB, allocatedMb: (stat.blocks * 512) / MB }
    })

describe('chaosDiskspace', () => {
  const logs = useCapturedLogs()
  let dir = ''
  const chain = (
    config: ChaosConfigInput,
    handler: () => Promise<unknown> = helloWorld,
    options: ChaosDiskspaceOptions = {},
  ) => middy(handler).use(chaosDiskspace({ config, directory: dir, ...options }))

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'middy-chaos-diskspace-test-'))
  })
  afterEach(() => {
    releaseKeptFiles()
    vi.useRealTimers()
    rmSync(dir, { recursive: true, force: true })
  })

  it('puts the bytes on disk during the invocation, and removes them when it ends', async () => {
    // Prepare: a handler that looks at the disk while it runs
    const seen: { files: ReturnType<typeof fills>; freeMb: number }[] = []
    const before = freeMb(dir)
    const handler = chain(diskspace({ megabytes: 64 }), async () => {
      seen.push({ files: fills(dir), freeMb: freeMb(dir) })
      return helloWorld()
    })

    // Act
    const result = await handler({}, makeContext())

    // Assess: 64 MB written and allocated, the free space down by about that; all gone after
    expect(result).toEqual(await helloWorld())
    expect(seen[0]?.files).toHaveLength(1)
    expect(seen[0]?.files[0]?.megabytes).toBe(64)
    expect(seen[0]?.files[0]?.allocatedMb).toBeGreaterThanOrEqual(64)
    expect(before - (seen[0]?.freeMb ?? 0)).toBeGreaterThan(64 - 16)
    expect(before - (seen[0]?.freeMb ?? 0)).toBeLessThan(64 + 16)
    expect(fills(dir)).toEqual([])
    expect(Math.abs(freeMb(dir) - before)).toBeLessThan(16)
    expect(logs.injected()[0]).toMatchObject({
      message: 'Chaos fault injected',
      chaos: {
        faultType: 'diskspace',
        phase: 'before',
        megabytes: 64,
        keep: false,
        file: expect.stringContaining(join(dir, FILE_PREFIX)),
      },
    })
  })

  it('writes 100 MB when the config does not say', async () => {
    let written = 0
    await chain(diskspace(), async () => {
      written = fills(dir)[0]?.megabytes ?? 0
      return helloWorld()
    })({}, makeContext())
    expect(written).toBe(100)
    expect(fills(dir)).toEqual([])
  })

  it('never fills past the free space less the reserve, and says so', async () => {
    // Prepare: a reserve that leaves about 8 MB to fill
    const reserveMb = Math.floor(freeMb(dir)) - 8
    let written = 0
    const handler = chain(
      diskspace({ megabytes: 64 }),
      async () => {
        written = fills(dir)[0]?.megabytes ?? 0
        return helloWorld()
      },
      { reserveMb },
    )

    // Act
    await handler({}, makeContext())

    // Assess (other writers on the same disk move the free space a little)
    expect(written).toBeLessThanOrEqual(8 + 8)
    const line = logs.injected()[0]?.chaos as Record<string, unknown>
    expect(line).toMatchObject({ requestedMegabytes: 64, clamped: true, reserveMb })
    expect(line.megabytes).toBe(written)
    expect(fills(dir)).toEqual([])
  })

  it('writes nothing when the free space is all reserved, and the invocation goes on', async () => {
    const reserveMb = Math.ceil(freeMb(dir)) + 1024
    const result = await chain(diskspace({ megabytes: 8 }), helloWorld, { reserveMb })(
      {},
      makeContext(),
    )
    expect(result).toEqual(await helloWorld())
    expect(readdirSync(dir)).toEqual([])
    expect(logs.injected()[0]).toMatchObject({ chaos: { megabytes: 0, clamped: true } })
  })

  it('keeps the files across invocations when asked, within maxKeptMb', async () => {
    // Prepare: 4 MB an invocation, at most 10 MB kept
    const handler = chain(diskspace({ megabytes: 4, keep: true }), helloWorld, { maxKeptMb: 10 })
    const kept: number[] = []

    // Act
    for (let i = 0; i < 4; i++) {
      await handler({}, makeContext())
      kept.push(fills(dir).reduce((sum, file) => sum + file.megabytes, 0))
    }

    // Assess: 4, 8, then capped at 10, and no more
    expect(kept).toEqual([4, 8, 10, 10])
    expect(logs.injected().map((line) => (line.chaos as { megabytes: number }).megabytes)).toEqual([
      4, 4, 2, 0,
    ])
    releaseKeptFiles()
    expect(fills(dir)).toEqual([])
  })

  it('removes kept files when their keepFor ends, even once the fault is off', async () => {
    // Prepare: 2 MB kept for 1 minute
    vi.useFakeTimers({ toFake: ['Date'] })
    await chain(diskspace({ megabytes: 2, keep: true, keepFor: '1m' }))({}, makeContext())
    const off = chain({ ...diskspace(), enabled: false })

    // Act + Assess: still there before the minute is up, gone at the first invocation after it
    await off({}, makeContext())
    expect(fills(dir)).toHaveLength(1)
    vi.advanceTimersByTime(60_000)
    await off({}, makeContext())
    expect(fills(dir)).toEqual([])
  })

  it('removes the files when the handler throws, and leaves nothing for the next invocation', async () => {
    // Prepare: the fault on every other invocation (every: 2)
    const seen: number[] = []
    const handler = chain(diskspace({ megabytes: 4, every: 2 }), async () => {
      seen.push(fills(dir).length)
      throw new Error('handler failed')
    })

    // Act
    const errors: string[] = []
    for (let i = 0; i < 3; i++) {
      await handler({}, makeContext()).catch((error: Error) => errors.push(error.message))
    }

    // Assess: the handler's own error each time; the file only during the second invocation
    expect(errors).toEqual(['handler failed', 'handler failed', 'handler failed'])
    expect(seen).toEqual([0, 1, 0])
    expect(readdirSync(dir)).toEqual([])
  })

  it('stops writing at the deadline margin, and removes what it wrote', async () => {
    // Prepare: all Lambda's 10 GB asked for, with 200 ms left; the context notes the time left
    // each time the code asks
    const handler = chain(diskspace({ megabytes: MAX_MEGABYTES }), helloWorld, {
      deadlineMargin: 100,
    })
    const context = makeContext({ timeoutMs: 200 })
    const seen: number[] = []
    const remaining = context.getRemainingTimeInMillis
    context.getRemainingTimeInMillis = () => {
      const left = remaining()
      seen.push(left)
      return left
    }
    const started = performance.now()

    // Act
    const result = await handler({}, context)

    // Assess: the fill stopped at the first reading of 100 ms or less left, and not before: it
    // wrote 1 MB after each reading of more (one of those may be the config source's, at the
    // first invocation); ten times the 200 ms bounds the whole invocation (the 10 GB at disk
    // speed would take far longer)
    expect(result).toEqual(await helloWorld())
    const stoppedAt = seen.findIndex((left) => left <= 100)
    expect(stoppedAt).toBeGreaterThanOrEqual(0)
    const warning = logs.byLevel('warn')[0]
    expect(warning?.message).toBe('Chaos diskspace fill stopped at the deadline margin')
    const megabytes = (warning?.chaos as { megabytes?: number } | undefined)?.megabytes ?? -1
    expect(megabytes).toBeGreaterThanOrEqual(stoppedAt - 1)
    expect(megabytes).toBeLessThanOrEqual(stoppedAt)
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(readdirSync(dir)).toEqual([])
  })

  it('at a cold start, removes the files a process that is gone left (a crash, a timeout)', () => {
    // Prepare: leftovers of a dead pid and of an earlier life of this pid; a live writer's file; another file
    let dead = 4_000_000
    while (
      (() => {
        try {
          process.kill(dead, 0)
          return true
        } catch {
          return false
        }
      })()
    )
      dead += 1
    const names = [
      `${FILE_PREFIX}${dead}-0123abcd-1.fill`,
      `${FILE_PREFIX}${process.pid}-deadbeef-1.fill`,
      `${FILE_PREFIX}${process.ppid}-0123abcd-1.fill`,
      'someone-elses.tmp',
    ]
    for (const name of names) writeFileSync(join(dir, name), 'x')

    // Act
    chaosDiskspace({ directory: dir })

    // Assess
    expect(readdirSync(dir).sort()).toEqual([names[2], names[3]].sort())
    expect(logs.byLevel('info')[0]).toMatchObject({
      message: 'Chaos diskspace files of an earlier process removed',
      chaos: { files: 2 },
    })
  })

  it('changes nothing while disabled', async () => {
    const before = readdirSync(dir)
    const result = await chain({ ...diskspace(), enabled: false })({}, makeContext())
    expect(result).toEqual(await helloWorld())
    expect(readdirSync(dir)).toEqual(before)
    expect(logs.lines).toEqual([])
  })

  it('dry run: logs what it would write, writes nothing', async () => {
    let during: string[] = []
    await chain(diskspace({ megabytes: 8, dryRun: true }), async () => {
      during = readdirSync(dir)
      return helloWorld()
    })({}, makeContext())
    expect(during).toEqual([])
    expect(logs.lines.map((line) => line.message)).toEqual(['Chaos fault dry run: not injected'])
    expect(logs.lines[0]).toMatchObject({ chaos: { dryRun: true, megabytes: 8 } })
  })

  it('a directory it cannot write to: a warning, and the invocation untouched', async () => {
    const missing = join(dir, 'missing')
    const result = await chain(diskspace({ megabytes: 1 }), helloWorld, { directory: missing })(
      {},
      makeContext(),
    )
    expect(result).toEqual(await helloWorld())
    expect(logs.byLevel('warn')[0]).toMatchObject({
      message: 'Chaos diskspace fault failed; invocation continues untouched',
    })
  })

  it.each([
    [
      { megabytes: 0 },
      `faults[0].megabytes: must be an integer from 1 to ${MAX_MEGABYTES} MB (got 0)`,
    ],
    [
      { megabytes: MAX_MEGABYTES + 1 },
      `faults[0].megabytes: must be an integer from 1 to ${MAX_MEGABYTES} MB (got 10241)`,
    ],
    [
      { megabytes: 1.5 },
      `faults[0].megabytes: must be an integer from 1 to ${MAX_MEGABYTES} MB (got 1.5)`,
    ],
    [{ keep: 'yes' }, 'faults[0].keep: must be true or false (got "yes")'],
    [{ keepFor: '5m' }, 'faults[0].keepFor: applies only with "keep": true'],
    [
      { keep: true, keepFor: '2h' },
      'faults[0].keepFor: must be a duration from 1s to 1h, such as "15m" or ms (got "2h")',
    ],
  ])('rejects %j with a message naming the field and the bound', async (fields, message) => {
    // Values the types reject, on purpose: what the library does with them at run time.
    await chain(diskspace(fields as DiskspaceEntry))({}, makeContext())
    expect(readdirSync(dir)).toEqual([])
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it('refuses invalid options in code at once', () => {
    expect(() => chaosDiskspace({ reserveMb: -1 })).toThrow(TypeError)
    expect(() => chaosDiskspace({ maxKeptMb: 1.5 })).toThrow(/maxKeptMb/)
  })
})

/*
 * failure-lambda's README configs for its `diskspace` mode, through the middleware: "Fills `/tmp`
 * with a configurable amount of data", `disk_space` MB (1.x), `diskSpace` MB (0.x), then the
 * handler runs ("fills /tmp, then continues").
 */
/** The README's "Configuration" example with only the diskspace flag on. */
const v1 = () => {
  const config = structuredClone(V1_CONFIGURATION)
  config.diskspace.enabled = true
  return config
}
/** The 0.4.x README's SSM parameter with `failureMode: "diskspace"`. */
const v0: FailureLambdaV0Config = { ...V0_SSM_PARAMETER, isEnabled: true, failureMode: 'diskspace' }

describe('failure-lambda diskspace configs', () => {
  const logs = useCapturedLogs()
  let dir = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'middy-chaos-diskspace-fl-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  /** Bytes of the fault's files while the handler runs. */
  const during = async (config: ChaosConfigInput) => {
    const sizes: number[] = []
    const result = await middy(async () => {
      for (const name of readdirSync(dir))
        if (name.startsWith(FILE_PREFIX)) sizes.push(statSync(join(dir, name)).size)
      return helloWorld()
    }).use(chaosDiskspace({ config, directory: dir }))({}, makeContext())
    return { result, sizes }
  }

  it('map onto a disk space fault before the handler: 1.x disk_space in MB of 1,048,576 bytes', () => {
    const { document, issues } = parseConfig(v1(), { faults: [diskspaceFault] })
    expect(issues).toEqual([])
    expect(document.faults).toHaveLength(1)
    expect(document.faults[0]).toMatchObject({
      type: 'diskspace',
      rate: 1,
      phase: 'before',
      fields: { megabytes: 100 },
    })
  })

  it('1.x: 100 MB are in /tmp while the handler runs, which then runs as usual', async () => {
    const { result, sizes } = await during(v1())
    expect(result).toEqual(await helloWorld())
    expect(sizes).toEqual([100 * MB])
    expect(readdirSync(dir)).toEqual([])
    expect(logs.injected()[0]).toMatchObject({ chaos: { faultType: 'diskspace', megabytes: 100 } })
  })

  it('0.x: diskSpace 100 is 100 decimal MB (dd bs=100000 count=1000), so 95 MB here', async () => {
    const { result, sizes } = await during(v0)
    expect(result).toEqual(await helloWorld())
    expect(sizes).toEqual([95 * MB])
    const { notes } = parseConfig(v0, { faults: [diskspaceFault] })
    expect(notes?.join('\n')).toMatch(/diskSpace: 100 decimal MB/)
  })

  it('0.x without diskSpace writes nothing, as its dd fails', async () => {
    const { diskSpace: _, ...noSize } = v0
    const { sizes } = await during(noSize)
    expect(sizes).toEqual([])
    expect(logs.injected()).toEqual([])
  })

  it('skips a flag failure-lambda would skip, naming the field', () => {
    const { document, notes } = parseConfig(
      { diskspace: { enabled: true, disk_space: 20_000 } },
      { faults: [diskspaceFault] },
    )
    expect(document.faults).toEqual([])
    expect(notes?.join('\n')).toMatch(/disk_space must be between 1 and 10240 \(MB\) \(got 20000\)/)
  })
})
