/**
 * Functions as esbuild bundles them for Lambda (one file, AWS SDK external,
 * tree-shaken): what a bundle leaves out must not change what it does.
 *
 * - The failure-lambda reader is out of a bundle that does not ask for it: a
 *   failure-lambda configuration then injects nothing, with a warning naming
 *   `useFailureLambdaFormat()`; with that call, the bundle reads it.
 * - The invocation scopes are in a bundle with a fault that acts on the
 *   invocation's calls (aws-sdk), and its faults reach those calls.
 * - The SSM client is loaded only by a function that reads its config with the
 *   built-in SSM store: not with a static config or a provider of its own.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LAMBDA_BUNDLE } from '../../bench/bundle.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
let dir: string

beforeAll(async () => {
  await mkdir(join(root, '.tmp'), { recursive: true })
  dir = await mkdtemp(join(root, '.tmp', 'bundled-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Bundles `source` as a function's module and runs it; returns its log lines and what it printed. */
const bundleAndRun = async (name: string, source: string, env: Record<string, string> = {}) => {
  const outfile = join(dir, `${name}.mjs`)
  const result = await build({
    // Resolved from a fault package, as a function depending on it resolves @middy-chaos/core.
    stdin: { contents: source, resolveDir: join(root, 'packages/aws-sdk'), loader: 'ts' },
    ...LAMBDA_BUNDLE,
    outfile,
    metafile: true,
    // The packages' lib/ is bundled in chunks; their source maps name the source modules.
    sourcemap: 'external',
    logLevel: 'silent',
  })
  const inputs = [
    ...Object.keys(
      result.metafile.outputs[Object.keys(result.metafile.outputs)[0] ?? '']?.inputs ?? {},
    ),
    ...(JSON.parse(await readFile(`${outfile}.map`, 'utf8')) as { sources: string[] }).sources,
  ]
  const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
    env: { ...process.env, POWERTOOLS_DEV: 'false', AWS_REGION: 'us-east-1', ...env },
  })
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { inputs, lines, stdout }
}

const lib = (pkg: string) => join(root, 'packages', pkg, 'lib/index.js')
const FAILURE_LAMBDA = JSON.stringify({
  latency: { enabled: true, min_latency: 20, max_latency: 21 },
})
const workshopFunction = (extra: string) => `
import middy from '@middy/core'
import { chaosLatency } from '${lib('latency')}'
${extra}
const config = ${FAILURE_LAMBDA}
const handler = middy(async () => ({ statusCode: 200 })).use(chaosLatency({ config }))
await handler({}, { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'r', functionName: 'f' })
`

/**
 * The workshop's three faults with a static config; prints its answer and whether undici was
 * loaded. An ESM import of `node:http` loads undici (reading the module's namespace runs its lazy
 * `WebSocket` and `EventSource` getters): 10 to 50 ms of a cold start, for a status text.
 */
const workshopLoads = (config: object) => `
import middy from '@middy/core'
import { chaosException } from '${lib('exception')}'
import { chaosLatency } from '${lib('latency')}'
import { chaosStatusCode } from '${lib('status-code')}'
const config = ${JSON.stringify(config)}
const handler = middy(async () => ({ statusCode: 200 }))
  .use(chaosLatency({ config })).use(chaosStatusCode({ config })).use(chaosException({ config }))
const response = await handler({ httpMethod: 'GET' }, { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'r', functionName: 'f' })
console.log('answer: ' + JSON.stringify(response))
console.log('undici loaded: ' + process.moduleLoadList.some((name) => name.includes('undici')))
`

describe('a bundled function', () => {
  it('never loads undici through node:http, faults off or on (status texts are read without it)', async () => {
    // Act
    const off = await bundleAndRun(
      'workshop-off',
      workshopLoads({ is_enabled: false, fault_type: 'status_code', error_code: 503 }),
    )
    const on = await bundleAndRun(
      'workshop-on',
      workshopLoads({ is_enabled: true, fault_type: 'status_code', error_code: 503 }),
    )

    // Assess
    expect(off.stdout).toContain('answer: {"statusCode":200}')
    expect(off.stdout).toContain('undici loaded: false')
    expect(on.stdout).toContain('"statusCode":503')
    expect(on.lines.find((line) => line.message === 'Chaos fault injected')).toMatchObject({
      chaos: { faultType: 'status_code', statusCode: 503 },
    })
    expect(on.stdout).toContain('undici loaded: false')
  }, 60_000)

  it('without useFailureLambdaFormat(): no failure-lambda reader in the bundle, no fault, a warning naming the call', async () => {
    // Act
    const { inputs, lines } = await bundleAndRun('without-reader', workshopFunction(''))

    // Assess
    expect(inputs.some((path) => path.endsWith('core/src/formats/failure-lambda.ts'))).toBe(false)
    expect(lines.filter((line) => line.message === 'Chaos fault injected')).toEqual([])
    expect(JSON.stringify(lines.filter((line) => line.level === 'WARN'))).toMatch(
      /useFailureLambdaFormat\(\) from '@middy-chaos\/core\/failure-lambda'/,
    )
  }, 60_000)

  it('with useFailureLambdaFormat(): reads the failure-lambda configuration', async () => {
    // Act
    const { inputs, lines } = await bundleAndRun(
      'with-reader',
      workshopFunction(
        `import { useFailureLambdaFormat } from '@middy-chaos/core/failure-lambda'\nuseFailureLambdaFormat()`,
      ),
    )

    // Assess
    expect(inputs.some((path) => path.endsWith('core/src/formats/failure-lambda.ts'))).toBe(true)
    expect(lines.filter((line) => line.level === 'WARN')).toEqual([])
    expect(lines.filter((line) => line.message === 'Chaos fault injected')).toMatchObject([
      { chaos: { faultType: 'latency' } },
    ])
  }, 60_000)

  it('with the aws-sdk fault: the invocation scopes are in, and the fault reaches the call', async () => {
    // Act: a DynamoDB client whose HTTP handler answers from memory; the fault fails every attempt
    const { inputs, stdout } = await bundleAndRun(
      'aws-sdk',
      `
import middy from '@middy/core'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { chaosAwsSdk } from '${lib('aws-sdk')}'
const requestHandler = { handle: async () => ({ response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: new TextEncoder().encode('{"TableNames":[]}') } }) }
const ddb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler, maxAttempts: 1 })
const config = { version: 1, faults: [{ type: 'aws_sdk', error: 'ValidationException' }] }
const handler = middy(async () => {
  try { await ddb.send(new ListTablesCommand({})); return 'call succeeded' } catch (error) { return 'call failed: ' + error.name }
}).use(chaosAwsSdk({ config, clients: [ddb] }))
console.log('inside: ' + await handler({}, { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'r', functionName: 'f' }))
await ddb.send(new ListTablesCommand({}))
console.log('after: call succeeded')
`,
    )

    // Assess
    expect(inputs.some((path) => path.endsWith('core/src/scope.ts'))).toBe(true)
    expect(stdout).toContain('inside: call failed: ValidationException')
    expect(stdout).toContain('after: call succeeded')
  }, 60_000)
})

/**
 * The workshop's status-code fault reading its config as `options` says; prints its answer and
 * whether the process loaded `@aws-sdk/client-ssm` (the SDK is external: a CommonJS package
 * loaded from node_modules, so it is in the require cache once loaded).
 */
const ssmLoads = (options: string) => `
import { createRequire } from 'node:module'
import middy from '@middy/core'
import { chaosStatusCode } from '${lib('status-code')}'
const handler = middy(async () => ({ statusCode: 200 })).use(chaosStatusCode(${options}))
const response = await handler({ httpMethod: 'GET' }, { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'r', functionName: 'f' })
console.log('answer: ' + JSON.stringify(response))
const loaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('client-ssm'))
console.log('client-ssm loaded: ' + loaded)
`
const STATUS_ON = { version: 1, faults: [{ type: 'status_code', statusCode: 503 }] }

describe('a bundled function and the SSM client', () => {
  it('with a static config: the SSM client is never loaded', async () => {
    // Act
    const { stdout } = await bundleAndRun(
      'ssm-static',
      ssmLoads(`{ config: ${JSON.stringify(STATUS_ON)} }`),
    )

    // Assess
    expect(stdout).toContain('"statusCode":503')
    expect(stdout).toContain('client-ssm loaded: false')
  }, 60_000)

  it('with a provider of its own: the SSM client is never loaded', async () => {
    // Act
    const { stdout } = await bundleAndRun(
      'ssm-provider',
      ssmLoads(
        `{ parameterName: '/chaos', provider: { get: async () => ${JSON.stringify(JSON.stringify(STATUS_ON))} } }`,
      ),
    )

    // Assess
    expect(stdout).toContain('"statusCode":503')
    expect(stdout).toContain('client-ssm loaded: false')
  }, 60_000)

  it('with the built-in SSM store: the client is loaded and reads the parameter (moto)', async () => {
    // Prepare
    const endpoint = inject('motoEndpoint')
    const name = `/bundled/${Date.now()}`
    const client = new SSMClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
    await client.send(
      new PutParameterCommand({ Name: name, Value: JSON.stringify(STATUS_ON), Type: 'String' }),
    )

    // Act
    const { stdout } = await bundleAndRun('ssm-built-in', ssmLoads('{}'), {
      CHAOS_PARAM: name,
      AWS_ENDPOINT_URL_SSM: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    })

    // Assess
    expect(stdout).toContain('"statusCode":503')
    expect(stdout).toContain('client-ssm loaded: true')
  }, 60_000)
})
