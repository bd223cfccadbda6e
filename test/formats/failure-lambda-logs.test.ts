/**
 * What a function logs about a failure-lambda configuration it can only read in
 * part: every dropped part is a warning, and no line grows with the config.
 */
import middy from '@middy/core'
import { resetConfigSources } from '@middy-chaos/core'
import { chaosDiskspace } from '@middy-chaos/diskspace'
import { chaosHttp } from '@middy-chaos/http'
import { afterEach, describe, expect, it } from 'vitest'
import { helloWorld, makeContext, useCapturedLogs } from '../helpers/index.js'

/** The documented bound of a line the middlewares write about a config. */
const MAX_LINE_BYTES = 8 * 1024

describe('failure-lambda parts that cannot be read', () => {
  const logs = useCapturedLogs()
  afterEach(() => resetConfigSources())

  it('a deny_list pattern that does not translate is a warning, and 3,000 of them stay one bounded line', async () => {
    // Prepare: 3,000 patterns with alternations (no regular expression is run from a config), one literal
    const denyList = [
      ...Array.from({ length: 3000 }, (_, i) => `^api-${i}\\.(example|test)\\.com$`),
      '^partner\\.example\\.com$',
    ]
    const config = { denylist: { enabled: true, deny_list: denyList } }
    const handler = middy(helloWorld).use(chaosHttp({ config }))

    // Act
    await handler({}, makeContext())

    // Assess
    const warnings = logs.byLevel('warn')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.message).toBe('Chaos config in the failure-lambda-1 format: parts ignored')
    const issues = warnings[0]?.issues as string[]
    expect(issues[0]).toMatch(/^failure-lambda: denylist: dropped the deny_list pattern "\^api-0/)
    expect(issues).toHaveLength(21)
    expect(issues[20]).toBe('(and 2980 more)')
    for (const line of logs.lines)
      expect(Buffer.byteLength(JSON.stringify(line))).toBeLessThan(MAX_LINE_BYTES)
  })

  it("says where the diskspace mode differs from failure-lambda's, once, as information", async () => {
    // Prepare
    const config = { diskspace: { enabled: true, disk_space: 1 } }
    const handler = middy(helloWorld).use(chaosDiskspace({ config }))

    // Act
    await handler({}, makeContext())
    await handler({}, makeContext())

    // Assess
    expect(logs.byLevel('warn')).toEqual([])
    const notes = logs.byLevel('info').filter((line) => line.message !== 'Chaos fault injected')
    expect(notes).toMatchObject([
      {
        message: 'Chaos config read from the failure-lambda-1 format',
        notes: [
          expect.stringMatching(
            /removes its file at the next invocation; here it goes when the invocation ends/,
          ),
        ],
      },
    ])
  })
})
