/**
 * Every package installs and imports from its packed tarball, not only inside
 * the workspace: `pnpm pack` (what `pnpm publish` uploads: it rewrites
 * `workspace:*` to real versions and applies `files`), unpacked into a bare
 * project whose only other modules are the peers a user already has. Each
 * tarball holds the compiled code of its sources and nothing else besides its
 * README, LICENSE and CHANGELOG; its manifest links to the repository; publint
 * and Are the Types Wrong? find nothing in it. Needs `pnpm build` first (CI
 * builds before testing).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const packages = readdirSync(join(root, 'packages'))
/** Resolution modes the esm-only profile of Are the Types Wrong? leaves out. */
const ESM_ONLY_IGNORED = new Set(['node10', 'node16-cjs'])
const peers = [
  '@middy/core',
  '@aws-lambda-powertools/commons',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/parameters',
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-cloudwatch',
  '@types/aws-lambda',
]

/** The repository every package links to, as the root package.json names it. */
const REPOSITORY = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository: { url: string } }
).repository.url
/** `git+https://github.com/<owner>/<name>.git` → `https://github.com/<owner>/<name>`. */
const WEB = REPOSITORY.replace(/^git\+/, '').replace(/\.git$/, '')

/** Every `.ts` file under `dir`, relative to it. */
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))

/**
 * What a package ships besides its compiled sources: the CLI, the workshop
 * experiment its `demo` plays in any folder (copied from examples/hello-world
 * by its build, beside the compiled demo function).
 */
const EXTRA_FILES: Readonly<Record<string, readonly string[]>> = {
  cli: ['lib/demo/workshop.json'],
}

/**
 * What a package's tarball must hold, exactly: its manifest, README, LICENSE
 * and CHANGELOG, and for each source file its compiled `.js` and `.d.ts`
 * (no source, no test, no source map, nothing left in lib/ by an old build),
 * and its {@link EXTRA_FILES}.
 */
const expectedFiles = (name: string): string[] => {
  const bases = sources(join(root, 'packages', name, 'src')).map(
    (file) => `lib/${file.replace(/\.ts$/, '')}`,
  )
  return [
    'package.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    ...(EXTRA_FILES[name] ?? []),
    ...bases.map((base) => `${base}.d.ts`),
    ...(name === 'core' ? bundledJs(join(root, 'packages', name)) : bases.map((b) => `${b}.js`)),
  ].sort()
}

/**
 * Core's JavaScript is built by esbuild with code splitting (`packages/core/build.mjs`): a file
 * per entry point (those of its `exports`, and `scope.js`, an entry of its own), and the chunks
 * they import, statically or with `import()`, and nothing else: a chunk that nothing imports
 * was left by an old build.
 */
const bundledJs = (dir: string): string[] => {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports: Record<string, { default: string }>
  }
  const seen = new Set<string>()
  const pending = [
    ...Object.values(manifest.exports).map((entry) => entry.default.replace(/^\.\//, '')),
    'lib/scope.js',
  ]
  while (pending.length > 0) {
    const file = pending.pop() as string
    if (seen.has(file)) continue
    seen.add(file)
    const text = readFileSync(join(dir, file), 'utf8')
    for (const [, spec] of text.matchAll(/(?:from |import\(|import )"(\.\.?\/[^"]+\.js)"/g))
      pending.push(join(dirname(file), spec as string))
  }
  return [...seen]
}

interface Manifest {
  name: string
  version: string
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  repository?: { type: string; url: string; directory: string }
  homepage?: string
  bugs?: { url: string }
  publishConfig?: Record<string, unknown>
  engines?: { node: string }
}

describe('packed packages', () => {
  let project: string
  let tarballs: string
  const manifests: Record<string, Manifest> = {}
  /** The file list of each tarball, as `pnpm publish` would upload it. */
  const packed: Record<string, string[]> = {}
  /** Each tarball's bytes. */
  const tarballData: Record<string, Uint8Array> = {}

  beforeAll(async () => {
    for (const name of packages) {
      if (!existsSync(join(root, 'packages', name, 'lib', 'index.js'))) {
        throw new Error(`packages/${name}/lib is missing: run pnpm build first`)
      }
    }
    project = await mkdtemp(join(tmpdir(), 'middy-chaos-pack-'))
    tarballs = join(project, 'tarballs')
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
      packed[name] = execFileSync('tar', ['-tzf', join(tarballs, tarball)], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((path) => path.replace(/^package\//, ''))
        .sort()
      tarballData[name] = new Uint8Array(await readFile(join(tarballs, tarball)))
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

  it('packs every package, with workspace versions resolved', () => {
    expect(Object.keys(manifests).sort()).toEqual([...packages].sort())
    for (const [name, manifest] of Object.entries(manifests)) {
      expect(manifest.name).toBe(`@middy-chaos/${name}`)
      for (const version of Object.values(manifest.dependencies ?? {})) {
        expect(version).not.toMatch(/^workspace:/)
      }
    }
  })

  it('puts in each tarball the compiled code of its sources, its README, LICENSE and CHANGELOG, and nothing else', () => {
    for (const name of packages) {
      const files = packed[name] ?? []
      // Assess: the same list, whatever lib/ holds besides (run rm -rf packages/*/lib && pnpm build when it holds old files)
      expect(files, `@middy-chaos/${name}`).toEqual(expectedFiles(name))
      expect(files.filter((file) => /\.map$|\.test\.|(^|\/)(src|tests)\//.test(file))).toEqual([])
    }
  })

  it('is versioned in lockstep, and links to its folder of the repository, its README and the issues; published publicly with provenance', () => {
    const versions = new Set(Object.values(manifests).map((manifest) => manifest.version))
    expect(versions.size, [...versions].join(', ')).toBe(1)
    expect(WEB).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+$/)
    for (const [name, manifest] of Object.entries(manifests)) {
      expect(manifest.repository, name).toEqual({
        type: 'git',
        url: REPOSITORY,
        directory: `packages/${name}`,
      })
      expect(manifest.homepage, name).toBe(`${WEB}/tree/main/packages/${name}#readme`)
      expect(manifest.bugs, name).toEqual({ url: `${WEB}/issues` })
      expect(manifest.publishConfig, name).toEqual({ access: 'public', provenance: true })
      expect(manifest.engines?.node, name).toBe('>=22')
    }
  })

  it('has no publint message, not even a suggestion', async () => {
    const messages: string[] = []
    for (const name of packages) {
      const data = tarballData[name] ?? new Uint8Array()
      const { messages: found, pkg } = await publint({
        pack: { tarball: data.slice().buffer },
        level: 'suggestion',
        strict: true,
      })
      for (const message of found)
        messages.push(`@middy-chaos/${name}: ${message.code} ${formatMessage(message, pkg)}`)
    }
    expect(messages).toEqual([])
  })

  it('resolves its types as an ESM-only package (Are the Types Wrong?, esm-only profile)', async () => {
    const problems: string[] = []
    for (const name of packages) {
      const result = await checkPackage(
        createPackageFromTarballData(tarballData[name] ?? new Uint8Array()),
      )
      if (!('problems' in result)) throw new Error(`@middy-chaos/${name}: no types found`)
      for (const problem of result.problems) {
        // The esm-only profile: the packages are ESM only, as Middy 7 is, so a
        // CommonJS require (node16-cjs) or the Node 10 resolution is not theirs to serve.
        if ('resolutionKind' in problem && ESM_ONLY_IGNORED.has(problem.resolutionKind)) continue
        problems.push(`@middy-chaos/${name}: ${JSON.stringify(problem)}`)
      }
    }
    expect(problems).toEqual([])
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

  it("types a config from the tarballs' .d.ts: the entries of the packages imported, a misspelled field an error", async () => {
    // Prepare: a program importing one fault package, compiled as a user's would be
    await writeFile(
      join(project, 'typed.ts'),
      `import type { ChaosConfig } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'

export const ok = chaosStatusCode({ config: { faults: [{ type: 'status_code', statusCode: 503 }] } })
export const typo = chaosStatusCode({ config: { faults: [{ type: 'status_code', status: 503 }] } })
export const latency: ChaosConfig = { faults: [{ type: 'latency', delay: 400 }] }
`,
    )
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['typed.ts'],
      }),
    )

    // Act
    let output = ''
    try {
      execFileSync(
        join(root, 'node_modules', '.bin', 'tsc'),
        ['-p', project, '--pretty', 'false'],
        {
          cwd: project,
          encoding: 'utf8',
        },
      )
    } catch (error) {
      output = String((error as { stdout?: string }).stdout)
    }

    // Assess: the two lines, and nothing else (the latency entry: its package is not imported)
    const errors = output.split('\n').filter((line) => line.includes('error TS'))
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatch(/^typed\.ts\(5,.*'status' does not exist in type 'StatusCodeEntry'/)
    expect(errors[1]).toMatch(/^typed\.ts\(6,.*Type '"latency"' is not assignable/)
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
