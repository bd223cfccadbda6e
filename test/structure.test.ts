/**
 * The shape of the packages' sources, as bench/structure.mjs measures it
 * (`node bench/structure.mjs` prints the figures):
 *
 * - no import circle in any package's src/, type-only imports included;
 * - no import running back up a package's rooms (a lower room of the CLI
 *   importing a higher one: stores never import the runner or the commands;
 *   the FIS generator never imports its local player);
 * - no source file over 500 lines;
 * - the constructs, the FIS generator and the experiment model never import
 *   the CLI, and importing `@middy-chaos/fis` does not load the local player;
 * - the experiment package does no I/O: no file system, network or AWS SDK.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { importsOf, LAYERS, roomOf, scanAll, scanPackage } from '../bench/structure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Longest source file, in lines. */
const MAX_LINES = 500

const scans = scanAll()

describe('the structure of the packages', () => {
  it('has no import circle in any package, type-only imports included', () => {
    const circles = scans.flatMap((scan) =>
      scan.circles.map((circle) => `${scan.name}: ${circle.join(' ↔ ')}`),
    )
    expect(circles).toEqual([])
  })

  it('has no import running back up the rooms of a package', () => {
    expect(scans.flatMap((scan) => scan.backUp.map((edge) => `${scan.name}: ${edge}`))).toEqual([])
  })

  it('has no source file over 500 lines', () => {
    const long = scans.flatMap((scan) =>
      Object.entries(scan.lineCounts)
        .filter(([, lines]) => lines > MAX_LINES)
        .map(([file, lines]) => `${scan.name}/${file}: ${lines}`),
    )
    expect(long).toEqual([])
  })

  it('lists in the rooms of the CLI and of fis every folder their src/ has', () => {
    for (const [name, rooms] of Object.entries(LAYERS)) {
      const scan = scanPackage(name)
      const found = new Set(Object.keys(scan.lineCounts).map(roomOf))
      found.delete('(entry)')
      expect([...found].filter((room) => !rooms.includes(room))).toEqual([])
    }
  })

  it('keeps the CLI out of the constructs, the FIS generator and the experiment model', () => {
    for (const name of ['cdk', 'fis', 'experiment']) {
      const scan = scanPackage(name)
      expect(scan.packagesImported.filter((p: string) => p.startsWith('@middy-chaos/cli'))).toEqual(
        [],
      )
      const manifest = JSON.parse(
        readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'),
      )
      expect(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })).not.toContain(
        '@middy-chaos/cli',
      )
    }
  })

  it('keeps the experiment package free of I/O: no fs, net or AWS SDK, in its imports or its dependencies', () => {
    const scan = scanPackage('experiment')
    const io = Object.entries(scan.external as Record<string, string[]>).flatMap(
      ([file, specifiers]) =>
        specifiers
          .filter((s) =>
            /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|child_process|tls)$|^@aws-sdk\//.test(
              s,
            ),
          )
          .map((s) => `${file}: ${s}`),
    )
    expect(io).toEqual([])
    const manifest = JSON.parse(
      readFileSync(join(root, 'packages', 'experiment', 'package.json'), 'utf8'),
    )
    const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })
    expect(dependencies.filter((d) => d.startsWith('@aws-sdk/'))).toEqual([])
  })
})

/** The files of a built package that `entry` loads, following relative imports. */
const loadedBy = (entry: string): string[] => {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier))
    }
  }
  visit(entry)
  return [...seen].map((file) => relative(dirname(entry), file).split('\\').join(posix.sep))
}

describe('the entry points of @middy-chaos/fis (built: needs pnpm build)', () => {
  const lib = join(root, 'packages', 'fis', 'lib')

  it('loads none of the local player from its main entry, which imports no other package of ours', () => {
    const loaded = loadedBy(join(lib, 'index.js'))
    expect(loaded.filter((file) => file.startsWith('local/'))).toEqual([])
    const packages = loaded.flatMap((file) =>
      importsOf(readFileSync(join(lib, file), 'utf8')).filter((s: string) =>
        s.startsWith('@middy-chaos/'),
      ),
    )
    expect(packages).toEqual([])
  })

  it('loads the player from @middy-chaos/fis/local', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', 'fis', 'package.json'), 'utf8'))
    expect(manifest.exports['./local'].default).toBe('./lib/local/index.js')
    const loaded = loadedBy(join(lib, 'local', 'index.js'))
    const built = readdirSync(join(lib, 'local')).filter((file) => file.endsWith('.js'))
    expect(built.length).toBeGreaterThan(5)
    for (const file of built) expect(loaded).toContain(file)
  })
})
