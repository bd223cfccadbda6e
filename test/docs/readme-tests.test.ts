/**
 * The test files the READMEs show (a `file=` snippet named `*.test.ts`) run as
 * they are written, beside the README's other `file=` snippets (the modules
 * they import): a test file copied from a README passes.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe } from 'vitest'
import { readmes, scratch, snippetsOf, writeProgram } from './snippets.js'

const shown = readmes().flatMap((readme) =>
  snippetsOf(readme)
    .map((snippet) => snippet.attributes.file)
    .filter((file): file is string => file?.endsWith('.test.ts') === true)
    .map((file) => ({ readme, file })),
)

const dir = await scratch('readme-tests')
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the test files the READMEs show', () => {
  for (const { readme, file } of shown) {
    describe(`${readme}: ${file}`, async () => {
      const { project } = await writeProgram(dir, readme)
      await import(join(project, file))
    })
  }
})
