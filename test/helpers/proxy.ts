import { createServer, type IncomingMessage } from 'node:http'

/** A {@link forwardingProxy} that listens: its URL, and how to close it. */
export interface ForwardingProxy {
  readonly url: string
  close(): Promise<void>
}

/**
 * A local HTTP proxy in front of `target` (moto, started by the test setup):
 * each request is shown to `see`, body read, then forwarded and its answer
 * passed back; a request `see` returns `false` for is never answered (a peer
 * that stalls). For tests that count what reaches a peer, or cut it off.
 *
 * @example
 * ```ts
 * const polls: number[] = []
 * const proxy = await forwardingProxy(moto, (request) => {
 *   if (String(request.headers['x-amz-target']).endsWith('.DescribeAlarms')) polls.push(Date.now())
 * })
 * ```
 */
export const forwardingProxy = async (
  target: string,
  see: (request: IncomingMessage, body: Buffer) => unknown = () => true,
): Promise<ForwardingProxy> => {
  const proxy = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      if (see(request, body) === false) return
      void fetch(`${target}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers: Object.fromEntries(
          Object.entries(request.headers).flatMap(([key, value]) =>
            typeof value === 'string' && key !== 'host' ? [[key, value]] : [],
          ),
        ),
        body,
      }).then(
        async (answer) => {
          const headers = Object.fromEntries(
            [...answer.headers].filter(
              ([key]) => !/^(content-encoding|transfer-encoding)$/.test(key),
            ),
          )
          response.writeHead(answer.status, headers)
          response.end(Buffer.from(await answer.arrayBuffer()))
        },
        () => response.destroy(),
      )
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port } = proxy.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.close(() => resolve())
        proxy.closeAllConnections()
      }),
  }
}
