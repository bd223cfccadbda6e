/**
 * The typed config, in programs of their own compiled with the project's
 * TypeScript: the entries a `ChaosConfig` accepts are those of the fault
 * packages the program imports (each adds its own by module augmentation),
 * and a misspelled field is an error naming the field. The same from the
 * packed packages' `.d.ts`: `test/pack/packages.test.ts`.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { typecheck, useScratch, writeTsconfig } from './snippets.js'

const program = `import type { ChaosConfig } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'

export const ok = chaosStatusCode({ config: { faults: [{ type: 'status_code', statusCode: 503 }] } })
export const typo = chaosStatusCode({ config: { faults: [{ type: 'status_code', status: 503 }] } })
export const latency: ChaosConfig = { faults: [{ type: 'latency', delay: 400 }] }
export const workshop = chaosStatusCode({
  config: { is_enabled: true, fault_type: 'status_code', error_code: 404 },
})
export const text = chaosStatusCode({ config: '{"faults":[{"type":"status_code","status":503}]}' })
`

describe('the typed config, program by program', () => {
  const scratchDir = useScratch('typed-config')

  const compile = async (name: string, source: string) => {
    const project = join(scratchDir(), name)
    await mkdir(project, { recursive: true })
    await writeFile(join(project, 'config.ts'), source)
    await writeTsconfig(project)
    return (await typecheck(project)).map(({ at, message }) => ({
      line: Number(at.split(':').at(-1)),
      message: message.split('\n')[0],
    }))
  }

  it('knows the entries of the packages imported, and names a misspelled field', async () => {
    const diagnostics = await compile('status-code-only', program)

    expect(diagnostics).toEqual([
      {
        line: 5,
        message: expect.stringContaining(
          "'status' does not exist in type 'StatusCodeEntry'",
        ) as string,
      },
      {
        line: 6,
        message: expect.stringMatching(
          /Type '"latency"' is not assignable to type '[^']*"status_code"/,
        ) as string,
      },
    ])
  })

  it('knows an entry once its package is imported', async () => {
    const diagnostics = await compile(
      'with-latency',
      `import '@middy-chaos/latency'\n${program.replace(/^export const typo.*\n/m, '')}`,
    )

    expect(diagnostics).toEqual([])
  })
})
