/**
 * The built-in SSM store (no `provider` given: `CHAOS_PARAM` and the SDK's
 * default client) against moto's SSM. It reads as Powertools `SSMProvider`
 * does: a String parameter; a SecureString decrypted with
 * `providerOptions: { decrypt: true }` or `POWERTOOLS_PARAMETERS_SSM_DECRYPT`,
 * and left encrypted otherwise; a missing parameter is a warning and an
 * untouched invocation. The SDK's endpoint comes from `AWS_ENDPOINT_URL_SSM`,
 * as a function's own client would take it.
 */
import { randomUUID } from 'node:crypto'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import { type ChaosMiddlewareOptions, resetConfigSources } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { helloWorld, makeContext, restApiEvent, useCapturedLogs } from '../helpers/index.js'

const ON = JSON.stringify({ version: 1, faults: [{ type: 'status_code', statusCode: 503 }] })
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

const write = async (value: string, type: 'String' | 'SecureString' = 'String') => {
  const name = `/built-in-store/${randomUUID()}`
  const client = new SSMClient({
    endpoint: inject('motoEndpoint'),
    region: 'us-east-1',
    credentials,
  })
  await client.send(new PutParameterCommand({ Name: name, Value: value, Type: type }))
  return name
}

/** One invocation of a function reading its config with the built-in store. */
const invokeWith = async (options: ChaosMiddlewareOptions) => {
  const handler = middy(helloWorld).use(chaosStatusCode({ maxAge: 0, ...options }))
  return handler(restApiEvent(), makeContext())
}

describe('the built-in SSM store', () => {
  const logs = useCapturedLogs()
  beforeEach(() => {
    resetConfigSources()
    vi.stubEnv('AWS_ENDPOINT_URL_SSM', inject('motoEndpoint'))
    vi.stubEnv('POWERTOOLS_PARAMETERS_SSM_DECRYPT', undefined)
  })
  afterEach(() => {
    vi.unstubAllEnvs()
    resetConfigSources()
  })

  it('reads a String parameter named by CHAOS_PARAM', async () => {
    // Prepare
    vi.stubEnv('CHAOS_PARAM', await write(ON))

    // Act
    const response = await invokeWith({})

    // Assess
    expect(response).toMatchObject({ statusCode: 503 })
    expect(logs.injected()).toHaveLength(1)
  })

  it('decrypts a SecureString with providerOptions: { decrypt: true }', async () => {
    // Prepare
    const parameterName = await write(ON, 'SecureString')

    // Act
    const response = await invokeWith({ parameterName, providerOptions: { decrypt: true } })

    // Assess
    expect(response).toMatchObject({ statusCode: 503 })
  })

  it('decrypts a SecureString with POWERTOOLS_PARAMETERS_SSM_DECRYPT=true, as SSMProvider does', async () => {
    // Prepare
    const parameterName = await write(ON, 'SecureString')
    vi.stubEnv('POWERTOOLS_PARAMETERS_SSM_DECRYPT', 'true')

    // Act
    const response = await invokeWith({ parameterName })

    // Assess
    expect(response).toMatchObject({ statusCode: 503 })
  })

  it('leaves a SecureString encrypted without decrypt: a warning, the invocation untouched', async () => {
    // Prepare
    const parameterName = await write(ON, 'SecureString')

    // Act
    const response = await invokeWith({ parameterName })

    // Assess
    expect(response).toEqual(await helloWorld())
    expect(logs.injected()).toEqual([])
    expect(JSON.stringify(logs.byLevel('WARN'))).toContain('not valid JSON')
  })

  it('a parameter that does not exist: a warning naming it, the invocation untouched', async () => {
    // Act
    const parameterName = `/built-in-store/missing-${randomUUID()}`
    const response = await invokeWith({ parameterName })

    // Assess
    expect(response).toEqual(await helloWorld())
    expect(logs.injected()).toEqual([])
    const warnings = JSON.stringify(logs.byLevel('WARN'))
    expect(warnings).toContain(parameterName)
    expect(warnings).toContain('GetParameterError')
    expect(warnings).toContain('not found')
  })
})
