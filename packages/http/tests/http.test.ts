/**
 * Against a real local HTTP server and an HTTPS one (a self-signed certificate
 * for localhost and 127.0.0.1, tests/fixtures), reached as `localhost` (the
 * host the faults target) and `127.0.0.1` (another host, which must reach the
 * server); and a DynamoDB client through the HTTPS server, which forwards to
 * dynalite. `fetch` reaches the HTTPS server through its own undici
 * dispatcher, which trusts the certificate (`fetch(url, { dispatcher })`).
 */
import { readFileSync } from 'node:fs'
import http, { Agent as HttpAgent, type IncomingMessage, type Server } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { parseConfig } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { Agent as UndiciAgent } from 'undici'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { makeContext, restApiEvent, useCapturedLogs } from '../../../test/helpers/index.js'
import type { HttpEntry } from '../src/index.js'
import {
  chaosHttp,
  globFromRegex,
  hostMatches,
  httpFault,
  interceptorsInstalled,
} from '../src/index.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))
const cert = fixture('localhost-cert.pem')
const key = fixture('localhost-key.pem')

let hits = 0
let plain: Server
let secure: https.Server
let httpPort = 0
let httpsPort = 0
/** fetch's own dispatchers: one that trusts the self-signed certificate, one for plain HTTP. */
const trusting = new UndiciAgent({ connect: { ca: cert } })
const own = new UndiciAgent()

const answer = (request: IncomingMessage, response: http.ServerResponse) => {
  if (request.headers['x-amz-target'] !== undefined) {
    // The DynamoDB client's requests go on to dynalite.
    const upstream = new URL(inject('dynamoEndpoint'))
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers)
        reply.pipe(response)
      },
    )
    request.pipe(forward)
    hits += 1
    return
  }
  hits += 1
  request.resume()
  response.end('hello')
}

beforeAll(async () => {
  plain = http.createServer(answer)
  secure = https.createServer({ cert, key }, answer)
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve))
  httpPort = (plain.address() as AddressInfo).port
  httpsPort = (secure.address() as AddressInfo).port
})

afterAll(async () => {
  plain.closeAllConnections()
  secure.closeAllConnections()
  await new Promise((resolve) => plain.close(resolve))
  await new Promise((resolve) => secure.close(resolve))
  await Promise.all([trusting.destroy(), own.destroy()])
})

/** What a request got: a status and body, or the error code (for fetch, its `cause`'s). */
type Result = { status?: number; body?: string; code?: string; name?: string; ms: number }

const timed = async (send: () => Promise<Omit<Result, 'ms'>>): Promise<Result> => {
  const started = performance.now()
  const result = await send()
  return { ...result, ms: performance.now() - started }
}

const viaFetch = (url: string, init: RequestInit = {}) =>
  timed(async () => {
    try {
      const response = await fetch(url, init)
      return { status: response.status, body: await response.text() }
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string } }).cause
      return { name: (error as Error).name, code: cause?.code }
    }
  })

const viaNode = (url: string, how: 'request' | 'get', options: https.RequestOptions = {}) =>
  timed(
    () =>
      new Promise((resolve) => {
        const module = url.startsWith('https:') ? https : http
        const done = (response: IncomingMessage) => {
          let body = ''
          response.setEncoding('utf8')
          response.on('data', (chunk) => {
            body += chunk
          })
          response.on('end', () => resolve({ status: response.statusCode, body }))
        }
        const request =
          how === 'get'
            ? module.get(url, { ca: cert, ...options }, done)
            : module.request(url, { ca: cert, ...options }, done)
        request.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ name: error.name, code: error.code }),
        )
        if (how === 'request') request.end()
      }),
  )

const clients = {
  fetch: (host: string) => viaFetch(`http://${host}:${httpPort}/`),
  'fetch, own dispatcher': (host: string) =>
    viaFetch(`http://${host}:${httpPort}/`, { dispatcher: own }),
  'fetch https, own dispatcher': (host: string) =>
    viaFetch(`https://${host}:${httpsPort}/`, { dispatcher: trusting }),
  'http.request': (host: string) => viaNode(`http://${host}:${httpPort}/`, 'request'),
  'http.get': (host: string) => viaNode(`http://${host}:${httpPort}/`, 'get'),
  'https.request': (host: string) => viaNode(`https://${host}:${httpsPort}/`, 'request'),
  'https.get': (host: string) => viaNode(`https://${host}:${httpsPort}/`, 'get'),
} as const

const fault = (
  fields: Omit<HttpEntry, 'type' | 'hosts'> & { hosts?: HttpEntry['hosts'] },
): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'http', hosts: ['localhost'], ...fields }],
})

/** Runs one invocation whose handler sends a request to `host` with `client`. */
const invoke = async (
  client: keyof typeof clients,
  fields: Parameters<typeof fault>[0],
  host = 'localhost',
) => {
  const handler = middy(() => clients[client](host)).use(chaosHttp({ config: fault(fields) }))
  return handler({}, makeContext())
}

const dispatcher = () =>
  (globalThis as unknown as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')]
const addRequest = () => Object.getOwnPropertyDescriptor(HttpAgent.prototype, 'addRequest')?.value

describe('chaosHttp: outcomes through fetch, http and https', () => {
  const logs = useCapturedLogs()
  const names = Object.keys(clients) as (keyof typeof clients)[]

  it.each(names)(
    '%s: a refused connection fails with ECONNREFUSED and never reaches the server',
    async (client) => {
      // Prepare
      hits = 0

      // Act
      const result = await invoke(client, { fault: 'refused' })

      // Assess
      expect(result.code).toBe('ECONNREFUSED')
      if (client.startsWith('fetch')) expect(result.name).toBe('TypeError')
      expect(hits).toBe(0)
    },
  )

  it.each(names)('%s: a reset fails with ECONNRESET', async (client) => {
    expect((await invoke(client, { fault: 'reset' })).code).toBe('ECONNRESET')
  })

  it.each(names)('%s: a DNS failure fails with ENOTFOUND', async (client) => {
    expect((await invoke(client, { fault: 'dns' })).code).toBe('ENOTFOUND')
  })

  it.each(names)(
    '%s: a timeout hangs for the delay, then fails as that client times out',
    async (client) => {
      // Act
      const result = await invoke(client, { fault: 'timeout', delay: 120 })

      // Assess
      expect(result.code).toBe(client.startsWith('fetch') ? 'UND_ERR_CONNECT_TIMEOUT' : 'ETIMEDOUT')
      expect(result.ms).toBeGreaterThanOrEqual(115)
    },
  )

  it.each(names)('%s: a status is answered with its body, parsed by the client', async (client) => {
    // Act
    const result = await invoke(client, { statusCode: 503, body: { message: 'down' } })

    // Assess
    expect(result).toMatchObject({ status: 503, body: '{"message":"down"}' })
  })

  it.each(names)(
    '%s: latency delays the request, which then reaches the server',
    async (client) => {
      // Prepare
      hits = 0

      // Act
      const result = await invoke(client, { delay: 150 })

      // Assess
      expect(result).toMatchObject({ status: 200, body: 'hello' })
      expect(result.ms).toBeGreaterThanOrEqual(145)
      expect(hits).toBe(1)
    },
  )

  it.each(names)('%s: another host reaches the server untouched', async (client) => {
    // Prepare
    hits = 0

    // Act
    const result = await invoke(client, { fault: 'refused' }, '127.0.0.1')

    // Assess
    expect(result).toMatchObject({ status: 200, body: 'hello' })
    expect(hits).toBe(1)
  })

  it("lets a caller's own timeout win over a hanging host", async () => {
    // Prepare
    const handler = middy(() =>
      timed(async () => {
        try {
          await fetch(`http://localhost:${httpPort}/`, { signal: AbortSignal.timeout(80) })
          return {}
        } catch (error) {
          return { name: (error as Error).name }
        }
      }),
    ).use(chaosHttp({ config: fault({ fault: 'timeout', delay: 5000 }) }))

    // Act
    const result = await handler({}, makeContext())

    // Assess: the caller's signal ended it (its reason, a TimeoutError); the fault's own 5 s hang,
    // had it run out, would have failed the fetch with a TypeError ("fetch failed")
    expect(result.name).toBe('TimeoutError')
  })

  it('logs the injected fault, and how many requests it affected when the invocation ends', async () => {
    // Act
    await invoke('fetch', { fault: 'refused' })

    // Assess
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'http', hosts: ['localhost'], fault: 'refused', delay: 0 },
    })
    expect(logs.lines.find((line) => line.message === 'Chaos fault ended')).toMatchObject({
      chaos: { faultType: 'http', affectedRequests: 1 },
    })
  })
})

describe('chaosHttp: an AWS SDK client through its Node.js HTTP handler (node:https)', () => {
  useCapturedLogs()

  const dynamodb = (host: string) =>
    new DynamoDBClient({
      endpoint: `https://${host}:${httpsPort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: { httpsAgent: new https.Agent({ ca: cert, keepAlive: true }) },
    })

  it('fails a blocked host with the promised code after the SDK retried it; another host reaches DynamoDB', async () => {
    // Prepare
    hits = 0
    const blocked = dynamodb('localhost')
    const other = dynamodb('127.0.0.1')
    const handler = middy(async () => {
      const outcome = async (client: DynamoDBClient) => {
        try {
          return {
            ok: true,
            attempts: (await client.send(new ListTablesCommand({}))).$metadata.attempts,
          }
        } catch (error) {
          const { code, $metadata } = error as { code?: string; $metadata?: { attempts?: number } }
          return { ok: false, code, attempts: $metadata?.attempts }
        }
      }
      return { blocked: await outcome(blocked), other: await outcome(other) }
    }).use(chaosHttp({ config: fault({ fault: 'refused' }) }))

    // Act
    const result = await handler({}, makeContext())

    // Assess: DynamoDB's 4 attempts, none reached the server
    expect(result.blocked).toEqual({ ok: false, code: 'ECONNREFUSED', attempts: 4 })
    expect(result.other).toEqual({ ok: true, attempts: 1 })
    expect(hits).toBe(1)
  })
  it("lets the SDK's connectionTimeout fire on a host that never answers, and its retries run", async () => {
    // Prepare
    const client = new DynamoDBClient({
      endpoint: `http://dynamodb.example:8000`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 150 },
    })
    const handler = middy(async () => {
      const started = performance.now()
      try {
        await client.send(new ListTablesCommand({}))
        return { ok: true }
      } catch (error) {
        const { name, message, $metadata } = error as Error & { $metadata?: { attempts?: number } }
        return { name, message, attempts: $metadata?.attempts, ms: performance.now() - started }
      }
    }).use(chaosHttp({ config: fault({ hosts: ['.example'], fault: 'timeout', delay: 5000 }) }))

    // Act
    const result = await handler({}, makeContext())

    // Assess
    // Assess: the SDK's connectionTimeout ended each attempt (its own message, twice); the fault's
    // 5 s hang, had it run out, would have ended them with an injected ETIMEDOUT socket error
    expect(result).toMatchObject({
      name: 'TimeoutError',
      message: expect.stringMatching(/did not establish a connection .* timeout of 150 ms/),
      attempts: 2,
    })
    expect(result.ms).toBeGreaterThanOrEqual(295)
  })
})

describe('chaosHttp: scoped to the invocation, nothing left after it', () => {
  useCapturedLogs()

  it.each([
    ['ends normally', async () => undefined, undefined],
    [
      'throws',
      async () => {
        throw new Error('handler failed')
      },
      undefined,
    ],
    [
      'is answered early by a later middleware',
      async () => undefined,
      { before: () => ({ statusCode: 200 }) },
    ],
    [
      'is answered early by a status-code fault',
      async () => undefined,
      chaosStatusCode({
        config: {
          version: 1,
          faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
        },
      }),
    ],
  ])('restores fetch and http exactly when the invocation %s', async (_, lambda, later) => {
    // Prepare
    await fetch(`http://127.0.0.1:${httpPort}/`)
    const before = { dispatcher: dispatcher(), addRequest: addRequest(), fetch: globalThis.fetch }
    let during: { installed: boolean; dispatcher: unknown; fetch: unknown } | undefined
    const handler = middy(async () => {
      during = {
        installed: interceptorsInstalled(),
        dispatcher: dispatcher(),
        fetch: globalThis.fetch,
      }
      return lambda()
    }).use(chaosHttp({ config: fault({ fault: 'refused' }) }))
    if (later) handler.use(later)

    // Act
    await handler(restApiEvent(), makeContext()).catch(() => undefined)
    const after = await clients.fetch('localhost')
    const afterOwn = await clients['fetch https, own dispatcher']('localhost')

    // Assess
    if (later === undefined) {
      expect(during).toMatchObject({ installed: true })
      expect(during?.fetch).not.toBe(before.fetch)
    }
    expect(interceptorsInstalled()).toBe(false)
    expect(dispatcher()).toBe(before.dispatcher)
    expect(addRequest()).toBe(before.addRequest)
    expect(Object.getOwnPropertyDescriptor(globalThis, 'fetch')).toMatchObject({
      value: before.fetch,
      writable: true,
      enumerable: true,
      configurable: true,
    })
    expect(after).toMatchObject({ status: 200 })
    expect(afterOwn).toMatchObject({ status: 200 })
  })

  it('installs nothing when the fault does not fire, or in a dry run', async () => {
    // Prepare
    const before = addRequest()
    const fetchBefore = globalThis.fetch
    const seen: boolean[] = []
    const lambda = async () => {
      seen.push(interceptorsInstalled(), globalThis.fetch !== fetchBefore)
      return clients.fetch('localhost')
    }

    // Act
    const off = await middy(lambda).use(
      chaosHttp({ config: fault({ fault: 'refused', rate: 0 }) }),
    )({}, makeContext())
    const dry = await middy(lambda).use(
      chaosHttp({ config: fault({ fault: 'refused' }), dryRun: true }),
    )({}, makeContext())

    // Assess
    expect([off.status, dry.status]).toEqual([200, 200])
    expect(seen).toEqual([false, false, false, false])
    expect(addRequest()).toBe(before)
    expect(globalThis.fetch).toBe(fetchBefore)
  })

  it('touches only the interleaved invocation that drew the fault, never a request made outside', async () => {
    // Prepare: every second invocation draws the fault
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = middy(async (event: { id: string }) => {
      await gate
      return { id: event.id, ...(await clients['http.request']('localhost')) }
    }).use(chaosHttp({ config: fault({ fault: 'refused', every: 2 }) }))
    const outside = new Promise<Result[]>((resolve) => {
      setTimeout(
        () =>
          void Promise.all([
            clients.fetch('localhost'),
            clients['fetch https, own dispatcher']('localhost'),
          ]).then(resolve),
        0,
      )
    })

    // Act
    const one = handler({ id: 'one' }, makeContext())
    const two = handler({ id: 'two' }, makeContext())
    const during = await outside
    release()
    const [first, second] = await Promise.all([one, two])

    // Assess
    expect(first).toMatchObject({ id: 'one', status: 200 })
    expect(second).toMatchObject({ id: 'two', code: 'ECONNREFUSED' })
    expect(during).toMatchObject([{ status: 200 }, { status: 200 }])
    expect(interceptorsInstalled()).toBe(false)
  })

  it('affects a keep-alive agent whose socket is pooled', async () => {
    // Prepare: a first request pools the socket
    const agent = new HttpAgent({ keepAlive: true })
    await viaNode(`http://localhost:${httpPort}/`, 'request', { agent })

    // Act
    const result = await middy(() =>
      viaNode(`http://localhost:${httpPort}/`, 'request', { agent }),
    ).use(chaosHttp({ config: fault({ fault: 'reset' }) }))({}, makeContext())
    const after = await viaNode(`http://localhost:${httpPort}/`, 'request', { agent })
    agent.destroy()

    // Assess
    expect(result.code).toBe('ECONNRESET')
    expect(after).toMatchObject({ status: 200 })
  })
})

describe('host patterns', () => {
  it.each([
    ['api.example.com', 'api.example.com', true],
    ['api.example.com', 'API.Example.com', true],
    ['api.example.com', 'x.api.example.com', false],
    ['.amazonaws.com', 'dynamodb.us-east-1.amazonaws.com', true],
    ['.amazonaws.com', 'amazonaws.com', false],
    ['.amazonaws.com', 'evilamazonaws.com', false],
    ['*.s3.*.amazonaws.com', 'bucket.s3.eu-west-1.amazonaws.com', true],
    ['*.s3.*.amazonaws.com', 's3.eu-west-1.amazonaws.com', false],
    ['*', 'anything.at.all', true],
    ['api-?.example.com', 'api-1.example.com', true],
    ['api-?.example.com', 'api-12.example.com', false],
  ])('%s matches %s: %s', (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected)
  })

  it('stays linear on patterns built to backtrack', () => {
    const started = performance.now()
    expect(hostMatches(`${'*a'.repeat(60)}b`, 'a'.repeat(253))).toBe(false)
    expect(performance.now() - started).toBeLessThan(200)
  })

  it.each([
    ['s3.*.amazonaws.com', '*s3*?amazonaws?com*'],
    ['^api\\.partner\\.com$', 'api.partner.com'],
    ['^dynamodb\\.', 'dynamodb.*'],
    ['.+\\.internal$', '*?*.internal'],
    ['(a|b)\\.com', undefined],
    ['[a-z]+\\.com', undefined],
    ['\\d+', undefined],
  ])('translates the failure-lambda regex %s to %s', (regex, glob) => {
    expect(globFromRegex(regex)).toBe(glob)
  })
})

describe('failure-lambda denylist', () => {
  const parse = (value: object) => parseConfig(value, { faults: [httpFault] })

  it('maps a 1.x deny_list onto a DNS failure of the same hosts, dropping what is no anchored literal', () => {
    // Act
    const { document, notes, issues } = parse({
      denylist: {
        enabled: true,
        percentage: 50,
        deny_list: ['s3.*.amazonaws.com', '^api\\.partner\\.com$', '(a|b)\\.com'],
      },
    })

    // Assess
    expect(issues).toEqual([])
    expect(document.faults).toHaveLength(1)
    expect(document.faults[0]).toMatchObject({
      type: 'http',
      rate: 0.5,
      fields: { hosts: ['*s3*?amazonaws?com*', 'api.partner.com'], fault: 'dns' },
    })
    expect(notes?.join(' ')).toContain('denylist: dropped the deny_list pattern "(a|b)\\\\.com"')
    expect(hostMatches('*s3*?amazonaws?com*', 's3.us-east-1.amazonaws.com')).toBe(true)
  })

  it.each([
    [{ denylist: { enabled: true } }],
    [{ denylist: { enabled: true, deny_list: [] } }],
    [{ isEnabled: true, failureMode: 'denylist', rate: 1 }],
  ])(
    'reads %j, which blocks nothing in failure-lambda, as no fault, with a note and no issue',
    (value) => {
      // Act
      const { document, notes, issues, warnings } = parse(value)

      // Assess
      expect(issues).toEqual([])
      expect(warnings).toBeUndefined()
      expect(document.faults).toEqual([])
      expect(notes?.join(' ')).toMatch(/so failure-lambda blocks nothing; the entry is off/)
    },
  )

  it.each([
    [{ isEnabled: true, failureMode: 'denylist', rate: 1, denylist: ['localhost'] }],
    [{ isEnabled: true, failureMode: 'blacklist', rate: 1, blacklist: ['localhost'] }],
  ])('maps 0.x %j onto a reset, as its mitm ended the connection', (value) => {
    const { document } = parse(value)
    expect(document.faults[0]).toMatchObject({
      type: 'http',
      fields: { hosts: ['*localhost*'], fault: 'reset' },
    })
  })

  it('skips a 1.x flag whose deny_list is not an array of strings, as failure-lambda does', () => {
    const { document, notes } = parse({ denylist: { enabled: true, deny_list: 'localhost' } })
    expect(document.faults).toEqual([])
    expect(notes?.join(' ')).toContain('deny_list must be an array of strings')
  })

  it('blocks what failure-lambda blocks, through a real request', async () => {
    // Prepare
    const config = { denylist: { enabled: true, deny_list: ['^localhost$'] } }
    const handler = middy(() => clients.fetch('localhost')).use(chaosHttp({ config }))

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.code).toBe('ENOTFOUND')
  })
})

describe('chaosHttp: config checks', () => {
  const logs = useCapturedLogs()

  it.each([
    [{ hosts: undefined, fault: 'refused' }, 'faults[0].hosts: is required'],
    [{ hosts: [] }, 'faults[0].hosts: must be an array of 1 to 50 host patterns'],
    [{ hosts: ['a b'] }, 'faults[0].hosts[0]: must be a host pattern'],
    [{ fault: 'explode' }, 'faults[0].fault: must be one of'],
    [{}, 'faults[0].fault: is required unless a delay is given'],
    [{ fault: 'reset', statusCode: 503 }, 'faults[0].statusCode: applies to "fault": "status"'],
    [{ statusCode: 150 }, 'faults[0].statusCode: must be an integer from 200 to 599 (got 150)'],
    [{ delay: -1 }, 'faults[0].delay: must be an integer from 0 to 900000 ms (got -1)'],
  ])('rejects %j naming the field, and touches nothing', async (fields, message) => {
    // Act: values the types reject, on purpose
    const result = await invoke('fetch', fields as Parameters<typeof fault>[0])

    // Assess
    expect(result.status).toBe(200)
    expect(String(logs.byLevel('warn')[0]?.issues)).toContain(message)
  })
})
