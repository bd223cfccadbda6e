/**
 * After `changeset version`: writes each package's new version into the
 * `export const VERSION = '…'` of its sources (the CLI's `--version`, the
 * version `@middy-chaos/fis` names in the runbooks it generates), so that they
 * say what its package.json says. `pnpm version-packages` runs it; a test
 * checks they agree. `node scripts/sync-versions.mjs [<repository root>]`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)))
const CONSTANT = /^export const VERSION = '([^']*)'$/m

/** Every `.ts` file under `dir`. */
const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  )

for (const name of readdirSync(join(root, 'packages'))) {
  const { version } = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'))
  for (const file of sources(join(root, 'packages', name, 'src'))) {
    const text = readFileSync(file, 'utf8')
    const found = CONSTANT.exec(text)
    if (found === null || found[1] === version) continue
    writeFileSync(file, text.replace(CONSTANT, `export const VERSION = '${version}'`))
    process.stdout.write(`${relative(root, file)}: VERSION ${found[1]} -> ${version}\n`)
  }
}
