// Makes docs/demo-report.png, the README's picture of `pnpm demo`'s report:
//   pnpm demo && node docs/demo-report.mjs [.chaos/demo-report.html]
// Opens the report in Debian's Chromium (as the report's test does) and
// photographs its top: the outcome, the timeline and the per-step table.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'

const report = resolve(process.argv[2] ?? '.chaos/demo-report.html')
const out = resolve(import.meta.dirname, 'demo-report.png')
const profile = await mkdtemp(join(tmpdir(), 'middy-chaos-screenshot-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
})
try {
  const page = await context.newPage()
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load' })
  const steps = await page.locator('#steps').boundingBox()
  const height = Math.ceil((steps?.y ?? 900) + (steps?.height ?? 0) + 16)
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } })
  console.log(`${out}: ${report}, 1280×${height}`)
} finally {
  await context.close()
  await rm(profile, { recursive: true, force: true })
}
