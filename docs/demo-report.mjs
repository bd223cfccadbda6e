// Makes docs/demo-report.png, the README's picture of `pnpm demo`'s report:
//   pnpm demo && node docs/demo-report.mjs [.chaos/demo-report.html]
// Opens the report in Debian's Chromium as the report's test does (its browser.ts) and
// photographs its top: the outcome, the timeline and the per-step table.
import { resolve } from 'node:path'
import { launchChromium } from '../packages/cli/tests/browser.ts'

const report = resolve(process.argv[2] ?? '.chaos/demo-report.html')
const out = resolve(import.meta.dirname, 'demo-report.png')
const browser = await launchChromium()
try {
  const { page } = await browser.open(report)
  const steps = await page.locator('#steps').boundingBox()
  const height = Math.ceil((steps?.y ?? 900) + (steps?.height ?? 0) + 16)
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } })
  console.log(`${out}: ${report}, 1280×${height}`)
} finally {
  await browser.close()
}
