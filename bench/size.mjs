// Size of the minified bundle of the workshop's function (see bench/bundle.mjs).
// Run after `pnpm build`:  node bench/size.mjs   (part of `pnpm bench`)
import { measureBundle } from './bundle.mjs'

const { total, own, byPackage } = await measureBundle()
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
console.log(
  'Minified bundle of examples/hello-world (Middy + 3 faults, AWS SDK and Powertools Tracer external)',
)
console.log('| part | size |')
console.log('| --- | ---: |')
for (const [name, bytes] of Object.entries(byPackage).sort((a, b) => b[1] - a[1])) {
  if (bytes >= 1024) console.log(`| ${name} | ${kb(bytes)} |`)
}
console.log(`| **this project's own code** | **${kb(own)}** |`)
console.log(`| **the whole bundle** | **${kb(total)}** |`)
const traced = await measureBundle({ withTracer: true })
console.log(
  `\nWith Powertools Tracer and its X-Ray SDK bundled too: ${kb(traced.total)} (+${kb(traced.total - total)})`,
)
