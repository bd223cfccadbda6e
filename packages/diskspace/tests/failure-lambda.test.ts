/**
 * failure-lambda's README configs for its `diskspace` mode, through the middleware: "Fills `/tmp`
 * with a configurable amount of data", `disk_space` MB (1.x), `diskSpace` MB (0.x), then the
 * handler runs ("fills /tmp, then continues").
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import middy from '@middy/core'
import { parseConfig } from '@middy-chaos/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  V0_SSM_PARAMETER,
  V1_CONFIGURATION,
} from '../../../test/formats/failure-lambda.fixtures.js'
import { helloWorld, makeContext, useCapturedLogs } from '../../../test/helpers/index.js'
import { chaosDiskspace, diskspaceFault, FILE_PREFIX, MB } from '../src/index.js'

/** The README's "Configuration" example with only the diskspace flag on. */
const v1 = () => {
  const config = structuredClone(V1_CONFIGURATION)
  config.diskspace.enabled = true
  return config
}
/** The 0.4.x README's SSM parameter with `failureMode: "diskspace"`. */
const v0 = { ...V0_SSM_PARAMETER, isEnabled: true, failureMode: 'diskspace' }

describe('failure-lambda diskspace configs', () => {
  const logs = useCapturedLogs()
  let dir = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'middy-chaos-diskspace-fl-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  /** Bytes of the fault's files while the handler runs. */
  const during = async (config: unknown) => {
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
