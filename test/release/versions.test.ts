/**
 * How a release is versioned (CONTRIBUTING.md): every @middy-chaos package in
 * one fixed Changesets group, published publicly; a CHANGELOG.md per package;
 * the versions the sources state (`export const VERSION`) kept equal to
 * their package.json by `scripts/sync-versions.mjs`, which `pnpm
 * version-packages` runs after `changeset version`; CHANGELOG entries without
 * the list of the group's own packages, which always move together.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const packages = readdirSync(join(root, 'packages'))
const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    name: string
    version: string
    private?: boolean
    scripts?: Record<string, string>
  }

/** Every `export const VERSION = '…'` under `dir`, by file. */
const versionConstants = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .flatMap((entry) => {
        const file = join(entry.parentPath, entry.name)
        const found = /^export const VERSION = '([^']*)'$/m.exec(readFileSync(file, 'utf8'))
        return found ? [[relative(root, file), found[1] ?? '']] : []
      }),
  )

describe('versions and changelogs', () => {
  it('groups every published package, and no example, in one fixed Changesets group published publicly', () => {
    // Prepare
    const config = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')) as {
      fixed: string[][]
      access: string
      changelog: string
    }
    const matches = (name: string, pattern: string) =>
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(
        name,
      )
    const inGroup = (name: string) => {
      const [group = []] = config.fixed
      return (
        group.some((pattern) => !pattern.startsWith('!') && matches(name, pattern)) &&
        !group.some((pattern) => pattern.startsWith('!') && matches(name, pattern.slice(1)))
      )
    }

    // Assess
    expect(config.fixed).toHaveLength(1)
    expect(config.access).toBe('public')
    for (const name of packages) expect(inGroup(manifest(`packages/${name}`).name), name).toBe(true)
    for (const name of readdirSync(join(root, 'examples'))) {
      const example = manifest(`examples/${name}`)
      expect(example.private, name).toBe(true)
      expect(inGroup(example.name), name).toBe(false)
    }
    expect(manifest('.').scripts).toMatchObject({
      changeset: 'changeset',
      'version-packages': 'changeset version && node scripts/sync-versions.mjs',
      release: 'pnpm run build && changeset publish',
    })
  })

  it('has a CHANGELOG.md per package, whose newest entry is the version of its package.json', () => {
    for (const name of packages) {
      const file = join(root, 'packages', name, 'CHANGELOG.md')
      expect(existsSync(file), file).toBe(true)
      const text = readFileSync(file, 'utf8')
      const { name: packageName, version } = manifest(`packages/${name}`)
      expect(text.startsWith(`# ${packageName}\n`), name).toBe(true)
      expect(/^## (\S+)$/m.exec(text)?.[1], name).toBe(version)
    }
  })

  it('states in the sources the version of their package.json (the CLI, the FIS generator)', () => {
    const stated = Object.fromEntries(
      packages.flatMap((name) =>
        Object.entries(versionConstants(join(root, 'packages', name, 'src'))).map(
          ([file, version]) => [file, { version, expected: manifest(`packages/${name}`).version }],
        ),
      ),
    )
    expect(Object.keys(stated).sort()).toEqual([
      'packages/cli/src/main.ts',
      'packages/fis/src/version.ts',
    ])
    for (const [file, { version, expected }] of Object.entries(stated))
      expect(version, `${file}: run node scripts/sync-versions.mjs`).toBe(expected)
  })

  it('scripts/sync-versions.mjs writes the new version into the sources, wherever they are in src/', async () => {
    // Prepare: a repository whose package was just versioned 1.4.0 by changeset version
    const repo = await mkdtemp(join(tmpdir(), 'middy-chaos-sync-'))
    try {
      await mkdir(join(repo, 'packages/tool/src/deep'), { recursive: true })
      await mkdir(join(repo, 'packages/other/src'), { recursive: true })
      await writeFile(join(repo, 'packages/tool/package.json'), '{"version":"1.4.0"}')
      await writeFile(join(repo, 'packages/other/package.json'), '{"version":"1.4.0"}')
      await writeFile(
        join(repo, 'packages/tool/src/deep/main.ts'),
        "/** The version. */\nexport const VERSION = '1.3.2'\nexport const OTHER = '1.3.2'\n",
      )
      await writeFile(join(repo, 'packages/other/src/index.ts'), "export const X = '1.3.2'\n")

      // Act
      const out = execFileSync(process.execPath, [join(root, 'scripts/sync-versions.mjs'), repo], {
        encoding: 'utf8',
      })

      // Assess
      expect(await readFile(join(repo, 'packages/tool/src/deep/main.ts'), 'utf8')).toBe(
        "/** The version. */\nexport const VERSION = '1.4.0'\nexport const OTHER = '1.3.2'\n",
      )
      expect(await readFile(join(repo, 'packages/other/src/index.ts'), 'utf8')).toBe(
        "export const X = '1.3.2'\n",
      )
      expect(out).toBe('packages/tool/src/deep/main.ts: VERSION 1.3.2 -> 1.4.0\n')
    } finally {
      await rm(repo, { recursive: true, force: true })
    }
  })

  it("leaves the group's own packages out of a CHANGELOG entry's updated dependencies, and lists the others", async () => {
    // Prepare
    const { default: changelog } = (await import(join(root, '.changeset/changelog.mjs'))) as {
      default: {
        getReleaseLine: (changeset: object, type: string, options: unknown) => Promise<string>
        getDependencyReleaseLine: (
          changesets: object[],
          dependencies: { name: string; newVersion: string }[],
          options: unknown,
        ) => Promise<string>
      }
    }
    const changeset = { id: 'a', summary: 'Adds --junit.', releases: [], commit: '1234567abc' }

    // Act
    const ours = await changelog.getDependencyReleaseLine(
      [changeset],
      [{ name: '@middy-chaos/core', newVersion: '1.4.0' }],
      null,
    )
    const mixed = await changelog.getDependencyReleaseLine(
      [changeset],
      [
        { name: '@middy-chaos/core', newVersion: '1.4.0' },
        { name: 'yaml', newVersion: '2.9.2' },
      ],
      null,
    )
    const line = await changelog.getReleaseLine(changeset, 'minor', null)

    // Assess
    expect(ours).toBe('')
    expect(mixed).toBe('- Updated dependencies [1234567]\n  - yaml@2.9.2')
    expect(line).toBe('- 1234567: Adds --junit.')
  })
})
