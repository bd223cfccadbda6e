// Puts beside the compiled demo function (lib/demo/) the experiment `middy-chaos demo` plays:
// the AWS FIS workshop's, from examples/hello-world, so that the packed CLI carries it.
import { copyFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const from = new URL('../../../examples/hello-world/experiments/workshop.json', import.meta.url)
const to = new URL('../lib/demo/', import.meta.url)
mkdirSync(to, { recursive: true })
copyFileSync(fileURLToPath(from), fileURLToPath(new URL('workshop.json', to)))
