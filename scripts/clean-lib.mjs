// Removes the compiled output (`lib/`) of every package and example before a build, so that a
// file moved or deleted in the sources leaves nothing behind in what is packed or run.
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
for (const group of ['packages', 'examples']) {
  for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
    if (entry.isDirectory())
      rmSync(join(root, group, entry.name, 'lib'), { recursive: true, force: true })
  }
}
