import { createServer } from 'node:net'
import { join } from 'node:path'
import { CliError } from '@middy-chaos/experiment'
import { afterEach, describe, expect, it } from 'vitest'
import {
  INTERNAL_SERVER_ERROR,
  type LambdaHandler,
  loadHandler,
  type RunningServer,
  startServer,
} from '../src/serve/index.js'
import { fixtures } from './helpers.js'

const handlers = join(fixtures, 'handlers.mjs')

describe('serve', () => {
  let server: RunningServer | undefined
  const logs: string[] = []
  const serve = async (exportName: string, options: { timeoutMs?: number } = {}) => {
    const handler = await loadHandler(handlers, exportName)
    server = await startServer({
      handler,
      port: 0,
      functionName: 'hello-world',
      log: (line) => logs.push(line),
      ...options,
    })
    return server
  }

  afterEach(async () => {
    await server?.close()
    server = undefined
    logs.length = 0
  })

  it('turns a request into a v1 proxy event and a Lambda context, and answers with the handler response', async () => {
    // Prepare
    const { url } = await serve('echo', { timeoutMs: 5000 })

    // Act
    const before = Date.now()
    const response = await fetch(`${url}orders/42?color=red&color=blue&size=L`, {
      method: 'POST',
      headers: { 'X-Custom': 'abc', 'content-type': 'application/json' },
      body: '{"hello":"world"}',
    })
    const { event, context } = JSON.parse(await response.text())
    const after = Date.now()

    // Assess
    expect(response.status).toBe(201)
    expect(response.headers.get('x-echo')).toBe('yes')
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(event).toMatchObject({
      resource: '/{proxy+}',
      path: '/orders/42',
      httpMethod: 'POST',
      queryStringParameters: { color: 'blue', size: 'L' },
      multiValueQueryStringParameters: { color: ['red', 'blue'], size: ['L'] },
      pathParameters: { proxy: 'orders/42' },
      stageVariables: null,
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: { httpMethod: 'POST', stage: 'local', path: '/local/orders/42' },
    })
    expect(event.headers['X-Custom']).toBe('abc')
    expect(event.multiValueHeaders['X-Custom']).toEqual(['abc'])
    expect(event.requestContext.requestId).toBe(context.awsRequestId)
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(context.functionName).toBe('hello-world')
    // The 5 s counted from the invocation's start, which lies within the request: at most the
    // request's own time has passed when the handler asked
    expect(context.remaining).toBeGreaterThanOrEqual(5000 - (after - before))
    expect(context.remaining).toBeLessThanOrEqual(5000)
  })

  it('gives a GET without query string or body null fields, as API Gateway does', async () => {
    const { url } = await serve('echo')
    const { event } = JSON.parse(await (await fetch(url)).text())
    expect(event).toMatchObject({
      resource: '/',
      path: '/',
      httpMethod: 'GET',
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      body: null,
    })
  })

  it('decodes a base64-encoded response body', async () => {
    const { url } = await serve('binary')
    const response = await fetch(url)
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]))
  })

  it('answers 502 Internal server error when the handler throws, and logs the error as Lambda does', async () => {
    const { url } = await serve('throws')
    const response = await fetch(url)
    expect(response.status).toBe(502)
    expect(await response.text()).toBe(INTERNAL_SERVER_ERROR)
    expect(INTERNAL_SERVER_ERROR).toBe('{"message": "Internal server error"}')
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(
      logs.some((line) => line.includes('Invoke Error') && line.includes('"errorMessage":"boom"')),
    ).toBe(true)
  })

  it.each([
    ['a body that is not a string', 'objectBody'],
    ['no statusCode', 'noStatusCode'],
    ['a bare string', 'bareString'],
  ])('answers 502 Internal server error for a malformed response: %s', async (_, exportName) => {
    const { url } = await serve(exportName)
    const response = await fetch(url)
    expect(response.status).toBe(502)
    expect(await response.text()).toBe(INTERNAL_SERVER_ERROR)
    expect(logs.some((line) => line.includes('Malformed Lambda proxy response'))).toBe(true)
  })

  it('answers 502 once the function timeout passes, with Lambda’s "Task timed out" log', async () => {
    // Prepare: a handler that answers only once the test lets it, after the response: a server
    // that waited for the handler would never answer
    let finish: () => void = () => {}
    const handler: LambdaHandler = () =>
      new Promise((resolve) => {
        finish = () => resolve({ statusCode: 200, body: 'late' })
      })
    server = await startServer({ handler, port: 0, timeoutMs: 200, log: (line) => logs.push(line) })

    // Act
    const started = Date.now()
    const response = await fetch(server.url).finally(() => finish())
    const elapsed = Date.now() - started

    // Assess: the timeout answered, not before its 200 ms
    expect(response.status).toBe(502)
    expect(await response.text()).toBe(INTERNAL_SERVER_ERROR)
    expect(elapsed).toBeGreaterThanOrEqual(190)
    expect(logs.some((line) => /Task timed out after 0\.20 seconds$/.test(line))).toBe(true)
  })

  it('counts getRemainingTimeInMillis down from the configured timeout', async () => {
    // Prepare: the handler notes the time left and when it asked, twice, 100 ms apart
    const handler: LambdaHandler = async (_event, context) => {
      const first = context.getRemainingTimeInMillis()
      const at = Date.now()
      await new Promise((resolve) => setTimeout(resolve, 100))
      const second = context.getRemainingTimeInMillis()
      return { statusCode: 200, body: JSON.stringify({ first, at, second }) }
    }
    server = await startServer({ handler, port: 0, timeoutMs: 1000, log: () => {} })

    // Act
    const before = Date.now()
    const { first, at, second } = JSON.parse(await (await fetch(server.url)).text())

    // Assess: 1000 ms from the invocation's start, which came after the request was sent and
    // before the handler asked; then down by at least the 100 ms waited
    expect(first).toBeLessThanOrEqual(1000)
    expect(first).toBeGreaterThanOrEqual(1000 - (at - before))
    expect(first - second).toBeGreaterThanOrEqual(90)
  })

  it('loads a CommonJS handler', async () => {
    const handler = await loadHandler(join(fixtures, 'handler.cjs'))
    server = await startServer({ handler, port: 0, log: () => {} })
    expect(await (await fetch(server.url)).text()).toBe('Hello from CommonJS')
  })

  it('names the missing export and the ones there are', async () => {
    await expect(loadHandler(handlers, 'nope')).rejects.toThrow(
      /has no function export "nope" \(exports: .*echo.*\); choose one with --export/,
    )
    await expect(loadHandler(handlers, 'notAFunction')).rejects.toBeInstanceOf(CliError)
  })

  it('names a missing handler module', async () => {
    await expect(loadHandler(join(fixtures, 'missing.js'))).rejects.toThrow(
      /handler module not found/,
    )
  })

  it('says which port is in use', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      await expect(startServer({ handler: async () => ({}), port, log: () => {} })).rejects.toThrow(
        `port ${port} is already in use on 127.0.0.1; choose another with --port`,
      )
    } finally {
      blocker.close()
    }
  })
})
