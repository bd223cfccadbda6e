/**
 * Any Powertools parameters provider can hold the chaos config. Secrets Manager
 * runs on moto_server and DynamoDB on dynalite; AppConfigData cannot run here,
 * so its SDK client is stubbed at the middleware-stack level.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig'
import { DynamoDBProvider } from '@aws-lambda-powertools/parameters/dynamodb'
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata'
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import middy from '@middy/core'
import { resetConfigSources, writeFileValue } from '@middy-chaos/core'
import { FileProvider } from '@middy-chaos/core/file-provider'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { captureLogs, helloWorld, makeContext, restApiEvent } from '../helpers/index.js'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const config = JSON.stringify({ version: 1, faults: [{ type: 'status_code', statusCode: 503 }] })
const invoke = (options: object) =>
  middy(helloWorld).use(chaosStatusCode(options))(restApiEvent(), makeContext())

describe('config held by other Powertools providers', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeAll(() => {
    logs = captureLogs()
  })
  afterAll(() => logs.restore())
  beforeEach(() => resetConfigSources())

  it('SecretsProvider (Secrets Manager on moto_server)', async () => {
    const clientConfig = { endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials }
    const name = `chaos-${randomUUID()}`
    await new SecretsManagerClient(clientConfig).send(
      new CreateSecretCommand({ Name: name, SecretString: config }),
    )
    const provider = new SecretsProvider({ clientConfig })
    expect(await invoke({ provider, parameterName: name })).toEqual({
      statusCode: 503,
      body: 'Hello from Lambda!',
    })
  })

  it('DynamoDBProvider (DynamoDB on dynalite)', async () => {
    const clientConfig = { endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials }
    const dynamo = new DynamoDBClient(clientConfig)
    const tableName = `chaos-${randomUUID()}`
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
    await dynamo.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { id: { S: 'hello-world' }, value: { S: config } },
      }),
    )
    const provider = new DynamoDBProvider({ tableName, clientConfig })
    expect(await invoke({ provider, parameterName: 'hello-world' })).toEqual({
      statusCode: 503,
      body: 'Hello from Lambda!',
    })
  })

  it('AppConfigProvider (AppConfigData stubbed: it cannot run here)', async () => {
    const client = new AppConfigDataClient({ region: 'us-east-1', credentials })
    const commands: string[] = []
    client.middlewareStack.add(
      () => async (args) => {
        const input = args.input as object
        commands.push(Object.keys(input).sort().join(','))
        const isStart = 'ApplicationIdentifier' in input
        return {
          output: isStart
            ? { InitialConfigurationToken: 'token-1', $metadata: {} }
            : {
                Configuration: new TextEncoder().encode(config),
                NextPollConfigurationToken: 'token-2',
                $metadata: {},
              },
          response: {},
        }
      },
      { step: 'initialize', name: 'stubAppConfigData' },
    )
    const provider = new AppConfigProvider({
      application: 'hello',
      environment: 'prod',
      awsSdkV3Client: client,
    })
    expect(await invoke({ provider, parameterName: 'chaos' })).toEqual({
      statusCode: 503,
      body: 'Hello from Lambda!',
    })
    expect(commands).toEqual([
      'ApplicationIdentifier,ConfigurationProfileIdentifier,EnvironmentIdentifier',
      'ConfigurationToken',
    ])
  })

  it('FileProvider, selected by CHAOS_STORE=file', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'chaos-')), 'config.json')
    await writeFileValue(path, config)
    vi.stubEnv('CHAOS_STORE', 'file')
    vi.stubEnv('CHAOS_PARAM', path)
    expect(await invoke({})).toEqual({ statusCode: 503, body: 'Hello from Lambda!' })
    expect(await invoke({ provider: new FileProvider(), parameterName: path })).toMatchObject({
      statusCode: 503,
    })
    vi.unstubAllEnvs()
  })
})
