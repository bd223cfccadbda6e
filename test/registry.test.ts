/**
 * The registry of faults (`packages/experiment/src/faults.ts`) is the one place a new
 * fault package is added to: every package under `packages/` that exports a
 * fault definition must be in it, with what the tooling needs to know.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AnyFaultDefinition } from '@middy-chaos/core'
import { describe, expect, it } from 'vitest'
import { FAULTS } from '../packages/experiment/src/faults.js'

const root = fileURLToPath(new URL('..', import.meta.url))

/** A value shaped like a `FaultDefinition`. */
const isFaultDefinition = (value: unknown): value is AnyFaultDefinition =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AnyFaultDefinition).type === 'string' &&
  Array.isArray((value as AnyFaultDefinition).phases) &&
  typeof (value as AnyFaultDefinition).parse === 'function' &&
  typeof (value as AnyFaultDefinition).plan === 'function'

/** The fault definitions each package folder under `dir` exports from `src/index.ts`. */
const exportedFaults = async (dir: string) => {
  const found: { folder: string; definition: AnyFaultDefinition; exports: object }[] = []
  for (const folder of readdirSync(dir)) {
    const exports = (await import(join(dir, folder, 'src/index.ts'))) as Record<string, unknown>
    for (const value of Object.values(exports)) {
      if (isFaultDefinition(value)) found.push({ folder, definition: value, exports })
    }
  }
  return found
}

/** The types of the faults exported under `dir` that the registry lacks. */
const missingFromRegistry = async (dir: string, registry: readonly AnyFaultDefinition[]) =>
  (await exportedFaults(dir))
    .filter(({ definition }) => !registry.includes(definition))
    .map(({ definition }) => definition.type)

describe('the registry of faults', () => {
  it('lists every fault that a package under packages/ exports', async () => {
    expect(await missingFromRegistry(join(root, 'packages'), FAULTS)).toEqual([])
  })

  it('catches a fault package that is not in it', async () => {
    expect(await missingFromRegistry(join(root, 'test/fixtures/packages'), FAULTS)).toEqual([
      'cpu_burn',
    ])
  })

  it('holds each type once, and no alias of one type names another', () => {
    const names = FAULTS.flatMap((fault) => [fault.type, ...(fault.aliases ?? [])])
    expect(new Set(names).size).toBe(names.length)
  })

  it('has, for each fault, its package, its factory, a summary, a describe and its flags', async () => {
    for (const { folder, definition, exports } of await exportedFaults(join(root, 'packages'))) {
      expect(definition.package).toBe(`@middy-chaos/${folder}`)
      expect(typeof (exports as Record<string, unknown>)[definition.factory ?? '']).toBe('function')
      expect(definition.summary).toMatch(/\w/)
      expect(typeof definition.describe).toBe('function')
      for (const flag of definition.flags ?? []) {
        expect(flag.name).toMatch(/^[a-z][a-z-]*$/)
        expect(flag.description).toMatch(/\w/)
      }
    }
  })
})
