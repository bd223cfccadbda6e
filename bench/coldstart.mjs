// Cold start: what a function pays once, from a fresh Node process to its first response, with
// faults off, compared with the stack middy-chaos is built on (the functions of
// bench/functions.mjs: Middy + Logger + SSMProvider, the same with the workshop's three faults,
// failure-lambda 1.x built from its repository when FAILURE_LAMBDA_REPO names a checkout of
// gunnargrosch/failure-lambda). Each function is a module as a user writes it (imports, then
// `build()` makes the Middy chain), run in fresh processes.
// Unbundled: installed from the packed tarballs (`pnpm pack`) into a flat node_modules, as
// `npm install` lays it out (a SAM function built without esbuild). Bundled: the same modules
// bundled as esbuild does for Lambda (bench/bundle.mjs: one minified ESM file, AWS SDK external).
// A local HTTP server stands in for SSM (GetParameter). Every function runs RUNS times
// (default 25), interleaved so that machine noise spreads over all; min / median / max.
// Run after `pnpm build`:  node bench/coldstart.mjs   (part of `pnpm bench`)
// ONLY='chaos;middy + logger' measures those functions and the stack only (more RUNS in the time).
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { LAMBDA_BUNDLE } from './bundle.mjs'
import { functions, VALUES } from './functions.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const runs = Number(process.env.RUNS ?? 25)
const failureLambdaRepo = process.env.FAILURE_LAMBDA_REPO
const only = process.env.ONLY?.split(';').map((name) => name.trim())
const FUNCTIONS = Object.fromEntries(
  Object.entries(functions({ failureLambda: failureLambdaRepo !== undefined })).filter(
    ([name]) => only === undefined || name === 'stack' || only.includes(name),
  ),
)

// Prints the time from the process's start to the module's import, then to the first response,
// and the CPU time (user + system) of the process at both points.
const CHILD = `const fn = await import(process.argv[2])
const imported = performance.now()
const importedCpu = process.cpuUsage()
const handler = fn.build()
const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'c', functionName: 'f' }
const response = await handler({ httpMethod: 'GET', path: '/' }, context)
const done = performance.now()
const doneCpu = process.cpuUsage()
if (response?.statusCode !== 200) throw new Error('unexpected response ' + JSON.stringify(response))
const ms = (cpu) => (cpu.user + cpu.system) / 1000
process.stdout.write('\\n' + JSON.stringify({ imported, done, importedCpu: ms(importedCpu), doneCpu: ms(doneCpu) }) + '\\n')
process.exit(0)
`

/** The versions the workspace uses (root package.json), for the stack's packages. */
const { devDependencies } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
const STACK = [
  '@middy/core',
  '@aws-lambda-powertools/commons',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/parameters',
  '@aws-sdk/client-ssm',
]
const OURS = ['core', 'latency', 'status-code', 'exception']

const project = await mkdtemp(join(tmpdir(), 'middy-chaos-coldstart-'))
try {
  for (const name of OURS) {
    if (!existsSync(join(root, 'packages', name, 'lib', 'index.js')))
      throw new Error(`packages/${name}/lib is missing: run pnpm build first`)
    execFileSync('pnpm', ['pack', '--pack-destination', join(project, 'tarballs')], {
      cwd: join(root, 'packages', name),
      stdio: 'ignore',
    })
  }
  const tarball = (name) => `file:tarballs/middy-chaos-${name}-0.1.0.tgz`
  const dependencies = Object.fromEntries([
    ...STACK.map((name) => [name, devDependencies[name]]),
    ...OURS.map((name) => [`@middy-chaos/${name}`, tarball(name)]),
  ])
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'coldstart', private: true, type: 'module', dependencies }),
  )
  // Flat, as npm lays node_modules out; the faults' dependency on core is the tarball too.
  await writeFile(
    join(project, 'pnpm-workspace.yaml'),
    `nodeLinker: hoisted\noverrides:\n  '@middy-chaos/core': '${tarball('core')}'\n`,
  )
  execFileSync('pnpm', ['install', '--prefer-offline', '--ignore-scripts', '--reporter=silent'], {
    cwd: project,
    stdio: 'inherit',
  })
  if (failureLambdaRepo) {
    // As its own build makes it (tsup: one ESM file per entry, dependencies left as imports).
    const target = join(project, 'node_modules', 'failure-lambda')
    await mkdir(target, { recursive: true })
    await cp(join(failureLambdaRepo, 'package.json'), join(target, 'package.json'))
    await build({
      entryPoints: [join(failureLambdaRepo, 'src/middy.ts')],
      outfile: join(target, 'dist/middy.js'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    })
  }
  await writeFile(join(project, 'child.mjs'), CHILD)
  const modules = {}
  for (const [name, source] of Object.entries(FUNCTIONS)) {
    const file = name.replace(/\W+/g, '-')
    await writeFile(join(project, `${file}.mjs`), source)
    modules[name] = `./${file}.mjs`
    await build({
      ...LAMBDA_BUNDLE,
      entryPoints: [join(project, `${file}.mjs`)],
      outfile: join(project, `${file}.bundled.mjs`),
      logLevel: 'warning',
    })
    modules[`${name} (bundled)`] = `./${file}.bundled.mjs`
  }

  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      const name = JSON.parse(body || '{}').Name ?? '/bench/param'
      response.setHeader('content-type', 'application/x-amz-json-1.1')
      response.end(
        JSON.stringify({
          Parameter: { Name: name, Type: 'String', Value: VALUES[name], Version: 1 },
        }),
      )
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${server.address().port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    CHAOS_PARAM: '/bench/chaos',
    FAILURE_INJECTION_PARAM: '/bench/failure-lambda',
    POWERTOOLS_SERVICE_NAME: 'bench',
  }
  const measure = (module) =>
    new Promise((resolve, reject) =>
      // Async, so that this process keeps serving the fake SSM endpoint.
      execFile(
        process.execPath,
        ['child.mjs', module],
        { cwd: project, env, encoding: 'utf8' },
        (error, stdout) => {
          if (error) return reject(error)
          const line = stdout.split('\n').find((text) => text.startsWith('{"imported"'))
          return line ? resolve(JSON.parse(line)) : reject(new Error(`${module}: ${stdout}`))
        },
      ),
    )
  const results = Object.fromEntries(Object.keys(modules).map((name) => [name, []]))
  for (let i = 0; i < runs; i++) {
    for (const [name, module] of Object.entries(modules)) results[name].push(await measure(module))
  }
  server.close()

  const sorted = (xs) => [...xs].sort((a, b) => a - b)
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)]
  const spread = (xs) => {
    const s = sorted(xs)
    return `${s[0].toFixed(1)} / **${median(xs).toFixed(1)}** / ${(s.at(-1) ?? 0).toFixed(1)}`
  }
  const signed = (ms) => `${ms >= 0 ? '+' : ''}${ms.toFixed(1)}`
  console.log(
    `node ${process.version}; ${runs} fresh processes per function, interleaved; ms, min / median / max`,
  )
  for (const mode of ['unbundled', 'bundled']) {
    const key = (name) => (mode === 'bundled' ? `${name} (bundled)` : name)
    const base = results[key('stack')]
    console.log(
      `\n${mode === 'bundled' ? 'Bundled (esbuild, minified, ESM, AWS SDK external)' : 'Unbundled (node_modules from the packed tarballs, laid out flat as npm does)'}`,
    )
    console.log(
      '| function | import | build + first invocation | to the first response | over the stack (paired) | CPU to the first response | over the stack (paired) |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const name of Object.keys(FUNCTIONS)) {
      const rows = results[key(name)]
      const total = rows.map((row) => row.done)
      const cpu = rows.map((row) => row.doneCpu)
      // Paired: each run against the stack's run of the same round, so that load on the machine
      // that changes between rounds cancels out; the median of those differences.
      const over = (values, of) =>
        name === 'stack' ? '—' : signed(median(values.map((value, i) => value - of(base[i]))))
      console.log(
        `| ${name} | ${median(rows.map((row) => row.imported)).toFixed(1)} | ${median(rows.map((row) => row.done - row.imported)).toFixed(1)} | ${spread(total)} | ${over(total, (row) => row.done)} | ${spread(cpu)} | ${over(cpu, (row) => row.doneCpu)} |`,
      )
    }
  }
} finally {
  // COLDSTART_KEEP=1 keeps the project (its functions, bundles and node_modules) to profile them.
  if (process.env.COLDSTART_KEEP) console.log(`\nkept: ${project}`)
  else await rm(project, { recursive: true, force: true })
}
