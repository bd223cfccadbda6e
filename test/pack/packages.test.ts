/**
 * Every package installs and imports from its packed tarball, not only inside
 * the workspace: `pnpm pack` (which rewrites `workspace:*` to real versions),
 * unpacked into a bare project whose only other modules are the peers a user
 * already has. Needs `pnpm build` first (CI builds before testing).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const packages = readdirSync(join(root, 'packages'))
const peers = [
  '@middy/core',
  '@aws-lambda-powertools/commons',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/parameters',
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-cloudwatch',
  '@types/aws-lambda',
]

describe('packed packages', () => {
  let project: string
  const manifests: Record<
    string,
    {
      name: string
      dependencies?: Record<string, string>
      peerDependencies?: Record<string, string>
    }
  > = {}

  beforeAll(async () => {
    for (const name of packages) {
      if (!existsSync(join(root, 'packages', name, 'lib', 'index.js'))) {
        throw new Error(`packages/${name}/lib is missing: run pnpm build first`)
      }
    }
    project = await mkdtemp(join(tmpdir(), 'middy-chaos-pack-'))
    const tarballs = join(project, 'tarballs')
    await mkdir(tarballs)
    for (const name of packages) {
      execFileSync('pnpm', ['pack', '--pack-destination', tarballs], {
        cwd: join(root, 'packages', name),
        stdio: 'ignore',
      })
    }
    for (const tarball of readdirSync(tarballs)) {
      const name = tarball.replace(/^middy-chaos-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')
      const target = join(project, 'node_modules', '@middy-chaos', name)
      await mkdir(target, { recursive: true })
      execFileSync('tar', ['-xzf', join(tarballs, tarball), '-C', target, '--strip-components=1'])
      manifests[name] = JSON.parse(await readFile(join(target, 'package.json'), 'utf8'))
    }
    // What a user's install brings besides our tarballs: the peers they own, and every
    // package's own third-party dependencies (yaml, uPlot, the CloudWatch client, …).
    const wanted = new Map<string, string>(
      peers.map((peer) => [peer, join(root, 'node_modules', peer)]),
    )
    for (const [name, manifest] of Object.entries(manifests)) {
      const own = { ...(manifest.dependencies ?? {}), ...(manifest.peerDependencies ?? {}) }
      for (const dependency of Object.keys(own)) {
        if (dependency.startsWith('@middy-chaos/') || wanted.has(dependency)) continue
        const local = join(root, 'packages', name, 'node_modules', dependency)
        wanted.set(dependency, existsSync(local) ? local : join(root, 'node_modules', dependency))
      }
    }
    for (const [dependency, from] of wanted) {
      if (!existsSync(from)) continue
      const link = join(project, 'node_modules', dependency)
      await mkdir(dirname(link), { recursive: true })
      await symlink(await realpath(from), link)
    }
    await writeFile(join(project, 'package.json'), '{"type":"module","private":true}')
  }, 120_000)

  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true })
  })

  it('packs every package, with workspace versions resolved and only lib/ and the README', async () => {
    expect(Object.keys(manifests).sort()).toEqual([...packages].sort())
    for (const [name, manifest] of Object.entries(manifests)) {
      expect(manifest.name).toBe(`@middy-chaos/${name}`)
      for (const version of Object.values(manifest.dependencies ?? {})) {
        expect(version).not.toMatch(/^workspace:/)
      }
      const files = readdirSync(join(project, 'node_modules', '@middy-chaos', name)).sort()
      expect(
        files.filter((file) => !['lib', 'README.md', 'package.json', 'LICENSE'].includes(file)),
      ).toEqual([])
    }
  })

  it('imports and runs the workshop faults from the tarballs', async () => {
    await writeFile(
      join(project, 'check.mjs'),
      `
import middy from '@middy/core'
import { chaosException, ChaosInjectedError } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
const config = { is_enabled: true, fault_type: 'status_code', error_code: 404 }
const handler = middy(async () => ({ statusCode: 200, body: 'Hello from Lambda!' }))
  .use(chaosLatency({ config })).use(chaosStatusCode({ config })).use(chaosException({ config }))
const response = await handler({}, { awsRequestId: 'pack', getRemainingTimeInMillis: () => 3000 })
console.log(JSON.stringify({ response, errorClass: typeof ChaosInjectedError }))
`,
    )
    const out = execFileSync(process.execPath, ['check.mjs'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, POWERTOOLS_DEV: 'false' },
    })
    const last = JSON.parse(out.trim().split('\n').at(-1) ?? '{}')
    expect(last).toEqual({
      response: { statusCode: 404, body: 'Hello from Lambda!' },
      errorClass: 'function',
    })
  })

  it("with faults off, loads core's fault entry and not its runner; a fault that fires loads the runner; a failure-lambda document, its reader", async () => {
    await writeFile(
      join(project, 'check-loads.mjs'),
      `
import { registerHooks } from 'node:module'
const loaded = new Set()
registerHooks({
  load(url, context, next) {
    const at = url.indexOf('/@middy-chaos/core/lib/')
    if (at !== -1) loaded.add(url.slice(at + '/@middy-chaos/core/lib/'.length))
    return next(url, context)
  },
})
const { default: middy } = await import('@middy/core')
const { chaosException } = await import('@middy-chaos/exception')
const { chaosLatency } = await import('@middy-chaos/latency')
const { chaosStatusCode } = await import('@middy-chaos/status-code')
const run = (config) =>
  middy(async () => ({ statusCode: 200 }))
    .use(chaosLatency({ config })).use(chaosStatusCode({ config })).use(chaosException({ config }))
    ({ httpMethod: 'GET' }, { awsRequestId: 'pack', getRemainingTimeInMillis: () => 3000 })
const off = await run({ is_enabled: false, fault_type: 'latency', delay: 1 })
const loadedOff = [...loaded]
const on = await run({ is_enabled: true, fault_type: 'latency', delay: 1 })
const loadedOn = [...loaded]
// A failure-lambda document: its reader is loaded then (no useFailureLambdaFormat() needed here).
const failureLambda = await run({ statuscode: { enabled: true, status_code: 503 } })
console.log(JSON.stringify({ off, on, failureLambda, loadedOff, loadedOn, loadedLast: [...loaded] }))
`,
    )
    const out = execFileSync(process.execPath, ['check-loads.mjs'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, POWERTOOLS_DEV: 'false' },
    })
    const { off, on, failureLambda, loadedOff, loadedOn, loadedLast } = JSON.parse(
      out.trim().split('\n').at(-1) ?? '{}',
    )
    expect([off, on]).toEqual([{ statusCode: 200 }, { statusCode: 200 }])
    expect(loadedOff).toContain('fault.js')
    expect(loadedOff).not.toContain('index.js')
    expect(loadedOff.filter((file: string) => file.startsWith('runner-'))).toEqual([])
    expect(loadedOn.filter((file: string) => file.startsWith('runner-'))).toHaveLength(1)
    expect(loadedOn).not.toContain('formats/failure-lambda.js')
    expect(failureLambda).toMatchObject({ statusCode: 503 })
    expect(loadedLast).toContain('formats/failure-lambda.js')
  })

  it('runs a failure point from the tarballs, in the invocation that drew it only', async () => {
    await writeFile(
      join(project, 'check-point.mjs'),
      `
import middy from '@middy/core'
import { chaosPoint, chaosPoints } from '@middy-chaos/point'
const config = { version: 1, faults: [{ type: 'point', name: 'orders.save', error: 'SaveFailedError' }] }
const handler = middy(async () => {
  try {
    await chaosPoint('orders.save', { labels: { table: 'orders' } })
    return 'saved'
  } catch (error) {
    return error.name
  }
}).use(chaosPoints({ config }))
const inside = await handler({}, { awsRequestId: 'pack', getRemainingTimeInMillis: () => 3000 })
const outside = await chaosPoint('orders.save', { data: 'untouched' })
console.log(JSON.stringify({ inside, outside }))
`,
    )
    const out = execFileSync(process.execPath, ['check-point.mjs'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, POWERTOOLS_DEV: 'false' },
    })
    expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toEqual({
      inside: 'SaveFailedError',
      outside: 'untouched',
    })
  })

  it('the CLI runs from its tarball', () => {
    const out = execFileSync(
      process.execPath,
      [join(project, 'node_modules', '@middy-chaos', 'cli', 'lib', 'bin.js'), '--help'],
      { cwd: project, encoding: 'utf8' },
    )
    expect(out).toMatch(/middy-chaos/)
  })
})
