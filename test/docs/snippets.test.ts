/**
 * Every TypeScript snippet of every README compiles as written (a module, with
 * the project's TypeScript and settings), so that what the READMEs show cannot
 * drift from the code. Each README is a program of its own: a fault package's
 * README imports only its package, so its snippets also show that the typed
 * config knows the entries of the packages imported, and only those.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ATTRIBUTES,
  fencesOf,
  readmes,
  root,
  snippetsOf,
  typecheck,
  useScratch,
  writeProgram,
} from './snippets.js'

describe('the TypeScript snippets of the READMEs', () => {
  const scratchDir = useScratch('snippets')

  it('are found: every README that shows code in TypeScript fences it as ts', () => {
    const all = readmes().flatMap(fencesOf)
    expect(all.filter((fence) => /^(js|javascript|mjs|tsx|jsx)$/.test(fence.lang))).toEqual([])
    expect(all.filter((fence) => fence.lang === 'ts').length).toBeGreaterThan(20)
    for (const fence of all.filter((candidate) => candidate.lang === 'ts')) {
      for (const key of Object.keys(fence.attributes)) {
        expect(ATTRIBUTES.has(key), `${fence.readme}:${fence.line} ${key}=`).toBe(true)
      }
    }
  })

  it.each(readmes().filter((readme) => snippetsOf(readme).length > 0))(
    '%s: compile as written',
    async (readme) => {
      const { project, files } = await writeProgram(scratchDir(), readme)
      const diagnostics = files.size === 0 ? [] : await typecheck(project, files)
      expect(diagnostics).toEqual([])
    },
    120_000,
  )

  it.each(
    readmes().flatMap((readme) =>
      snippetsOf(readme)
        .filter((snippet) => snippet.attributes.excerpt !== undefined)
        .map((snippet) => [`${readme}:${snippet.line}`, snippet] as const),
    ),
  )('%s: is an excerpt of the file it names, verbatim', (_, snippet) => {
    const file = readFileSync(
      join(root, dirname(snippet.readme), snippet.attributes.excerpt ?? ''),
      'utf8',
    )
    expect(file).toContain(snippet.code)
  })
})
