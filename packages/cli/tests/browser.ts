/**
 * Headless Chromium for the tests that open a report: Debian's `chromium`
 * (`apt-get install chromium`; the test setup installs it when it may), driven by
 * playwright-core. No network: background services are off, and every
 * request that is not a `file:` or `data:` URL is refused and recorded.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A page and what it did: console errors, uncaught errors, and any request off this machine. */
export interface OpenedPage {
  page: Page
  consoleErrors: string[]
  pageErrors: string[]
  /** Every request the page made, by URL. */
  requests: string[]
  /** Requests refused because they were not `file:` or `data:`. */
  refused: string[]
}

/** A Chromium with a fresh profile; `close()` removes it. Fails (never skips) without Chromium. */
export const launchChromium = async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; the test setup does it when it may), or set CHROMIUM_PATH`,
    )
  const profile = await mkdtemp(join(tmpdir(), 'middy-chaos-chromium-'))
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  })
  return {
    /** Opens a local file and waits for it to load. */
    open: async (path: string): Promise<OpenedPage> => {
      const opened: OpenedPage = {
        page: await context.newPage(),
        consoleErrors: [],
        pageErrors: [],
        requests: [],
        refused: [],
      }
      const { page } = opened
      await page.route('**/*', async (route) => {
        const url = route.request().url()
        if (/^(file|data):/.test(url)) await route.continue()
        else {
          opened.refused.push(url)
          await route.abort()
        }
      })
      page.on('request', (request) => opened.requests.push(request.url()))
      page.on('console', (message) => {
        if (message.type() === 'error') opened.consoleErrors.push(message.text())
      })
      page.on('pageerror', (error) => opened.pageErrors.push(error.message))
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' })
      return opened
    },
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
