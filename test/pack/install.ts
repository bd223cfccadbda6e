/**
 * Packs some packages of the workspace with the `@middy-chaos` packages they
 * depend on (followed through the packed manifests, as a registry install
 * would) and unpacks them into a fresh project's node_modules, with the
 * third-party modules they name linked from the workspace. Needs `pnpm build`
 * first.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** What a packed manifest says of its dependencies. */
export interface PackedManifest {
  name: string
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

/** A fresh project with packed packages installed. */
export interface PackedProject {
  /** The project's folder (it has a package.json and node_modules). */
  dir: string
  /** The packed manifest of each installed `@middy-chaos` package, by folder name. */
  manifests: Record<string, PackedManifest>
}

/**
 * Packs `packages` (folder names under `packages/`) and every `@middy-chaos`
 * package their packed manifests depend on, unpacks them into a new project
 * under the system's temporary folder, and links there the third-party
 * dependencies and peers they declare, plus `extraModules`, from the
 * workspace's node_modules.
 */
export const installPacked = async (
  packages: readonly string[],
  extraModules: readonly string[] = [],
): Promise<PackedProject> => {
  const dir = await mkdtemp(join(tmpdir(), 'middy-chaos-packed-'))
  const tarballs = join(dir, 'tarballs')
  await mkdir(tarballs)
  const manifests: Record<string, PackedManifest> = {}
  const queue = [...packages]
  while (queue.length > 0) {
    const name = queue.shift() as string
    if (manifests[name]) continue
    if (!existsSync(join(repoRoot, 'packages', name, 'lib', 'index.js'))) {
      throw new Error(`packages/${name}/lib is missing: run pnpm build first`)
    }
    const before = new Set(await readdir(tarballs))
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: join(repoRoot, 'packages', name),
      stdio: 'ignore',
    })
    const tarball = (await readdir(tarballs)).find((file) => !before.has(file))
    if (!tarball) throw new Error(`pnpm pack wrote no tarball for packages/${name}`)
    const target = join(dir, 'node_modules', '@middy-chaos', name)
    await mkdir(target, { recursive: true })
    execFileSync('tar', ['-xzf', join(tarballs, tarball), '-C', target, '--strip-components=1'])
    const manifest = JSON.parse(
      await readFile(join(target, 'package.json'), 'utf8'),
    ) as PackedManifest
    manifests[name] = manifest
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if (dependency.startsWith('@middy-chaos/'))
        queue.push(dependency.slice('@middy-chaos/'.length))
    }
  }
  const wanted = new Map<string, string>()
  for (const module of extraModules) wanted.set(module, join(repoRoot, 'node_modules', module))
  for (const [name, manifest] of Object.entries(manifests)) {
    const own = { ...(manifest.dependencies ?? {}), ...(manifest.peerDependencies ?? {}) }
    for (const dependency of Object.keys(own)) {
      if (dependency.startsWith('@middy-chaos/') || wanted.has(dependency)) continue
      const local = join(repoRoot, 'packages', name, 'node_modules', dependency)
      wanted.set(dependency, existsSync(local) ? local : join(repoRoot, 'node_modules', dependency))
    }
  }
  for (const [dependency, from] of wanted) {
    if (!existsSync(from)) continue
    const link = join(dir, 'node_modules', dependency)
    await mkdir(dirname(link), { recursive: true })
    await symlink(await realpath(from), link)
  }
  await writeFile(join(dir, 'package.json'), '{"type":"module","private":true}')
  return { dir, manifests }
}
