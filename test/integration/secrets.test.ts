/**
 * No part of a secret is ever logged: SecureString values that are not JSON
 * (a password stored in the chaos parameter by mistake), read decrypted from
 * SSM on moto_server, leave none of their content in any log line.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import { resetConfigSources } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { helloWorld, makeContext, restApiEvent } from '../helpers/index.js'

const SECRETS = [
  'hunter2-db-password',
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
  '{"pw": "Zx9!qv#Lm2$Tn8@Rk4"',
]

describe('a secret in the chaos parameter', () => {
  let output = ''
  beforeEach(() => {
    output = ''
    resetConfigSources()
    for (const method of ['debug', 'info', 'warn', 'error', 'log'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        output += `${args.map(String).join(' ')}\n`
      })
    }
  })
  afterEach(() => vi.restoreAllMocks())

  it.each(SECRETS.map((secret, index) => [index, secret] as const))(
    'leaves none of secret #%i in any log line',
    async (index, secret) => {
      // Prepare
      const clientConfig = { endpoint: inject('motoEndpoint'), region: 'us-east-1' }
      const name = `/chaos/secure-${Date.now()}-${index}`
      await new SSMClient(clientConfig).send(
        new PutParameterCommand({ Name: name, Value: secret, Type: 'SecureString' }),
      )
      const options = {
        provider: new SSMProvider({ clientConfig }),
        parameterName: name,
        providerOptions: { decrypt: true },
      }
      const handler = middy(helloWorld)
        .use(chaosLatency(options))
        .use(chaosStatusCode(options))
        .use(chaosException(options))

      // Act
      const response = await handler(restApiEvent(), makeContext())

      // Assess: the invocation is untouched, a warning was logged, and no 4 characters of the secret in a row
      expect(response).toEqual(await helloWorld())
      expect(output).toMatch(/is not valid JSON \(\d+ characters.*the value is not quoted\)/)
      const text = output.replaceAll(name, '')
      for (let i = 0; i + 4 <= secret.length; i++) {
        const piece = secret.slice(i, i + 4)
        if (/^[\s{}":,-]+$/.test(piece)) continue // punctuation any JSON log line has
        expect(text, piece).not.toContain(piece)
      }
    },
  )
})
