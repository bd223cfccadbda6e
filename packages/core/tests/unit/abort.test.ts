/**
 * The abort signal a fetch hands to its provider's AWS SDK client: only the
 * source's own request gets it, the client is put back exactly as it was, and
 * a client that cannot be changed still gets its config read. No
 * `AsyncLocalStorage`: on Node.js 22 its first `run` makes every `await` of
 * the process slower for the environment's whole life (`node bench/awaits.mjs`).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it, vi } from 'vitest'
import { withAbortSignal } from '../../src/abort.js'

/** Looks like an AWS SDK v3 client: `send` on its prototype, a `middlewareStack`. */
class FakeClient {
  public middlewareStack = {}
  public send(command: unknown, options?: unknown): Promise<unknown> {
    return Promise.resolve({ command, options })
  }
}

const providerOf = (client: object) => ({
  client,
  get: (name: string) => (client as FakeClient).send({ name }),
})

describe('withAbortSignal', () => {
  it("gives the source's own request the signal, and leaves the client as it was", async () => {
    // Prepare
    const client = new FakeClient()
    const { signal } = new AbortController()

    // Act
    const result = await withAbortSignal(providerOf(client), signal, () =>
      providerOf(client).get('/chaos'),
    )

    // Assess
    expect(result).toEqual({ command: { name: '/chaos' }, options: { abortSignal: signal } })
    expect(Object.hasOwn(client, 'send')).toBe(false)
  })

  it("passes the user's calls made meanwhile through unchanged, to the send of the time of the call", async () => {
    // Prepare: a fetch that is still running when the user's code calls the client
    const client = new FakeClient()
    let release: () => void = () => undefined
    const running = withAbortSignal(providerOf(client), new AbortController().signal, async () => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
    })
    const mocked = vi
      .spyOn(FakeClient.prototype, 'send')
      .mockImplementation((...args: unknown[]) => Promise.resolve(['mocked', args.length]))

    // Act
    const seen = await client.send('user command')
    release()
    await running

    // Assess: the mock set on the prototype after the wrapper was installed, one argument as given
    expect(seen).toEqual(['mocked', 1])
    expect(mocked).toHaveBeenCalledWith('user command')
    mocked.mockRestore()
  })

  it('puts back an own send the client had (an instance spy), and it keeps seeing the calls', async () => {
    // Prepare
    const client = new FakeClient()
    const spy = vi.fn((command: unknown) => Promise.resolve(command))
    client.send = spy as never

    // Act
    await withAbortSignal(providerOf(client), new AbortController().signal, () =>
      providerOf(client).get('/chaos'),
    )
    await client.send('user command')

    // Assess
    expect(client.send).toBe(spy)
    expect(spy.mock.calls.map((call) => call.length)).toEqual([2, 1])
  })

  it('reads the config through a client whose send cannot be replaced', async () => {
    // Prepare
    const client = new FakeClient()
    Object.defineProperty(client, 'send', {
      value: FakeClient.prototype.send,
      configurable: false,
      writable: false,
    })

    // Act
    const result = await withAbortSignal(providerOf(client), new AbortController().signal, () =>
      providerOf(client).get('/chaos'),
    )

    // Assess: no signal, but the value
    expect(result).toEqual({ command: { name: '/chaos' }, options: undefined })
  })

  it('uses no AsyncLocalStorage, and gives the signal to the request sent in the synchronous part of the call', async () => {
    // Prepare
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run')
    const enterWith = vi.spyOn(AsyncLocalStorage.prototype, 'enterWith')
    const client = new FakeClient()
    const { signal } = new AbortController()

    // Act
    const result = await withAbortSignal(providerOf(client), signal, () =>
      providerOf(client).get('/chaos'),
    )

    // Assess
    expect(result).toEqual({ command: { name: '/chaos' }, options: { abortSignal: signal } })
    expect(run).not.toHaveBeenCalled()
    expect(enterWith).not.toHaveBeenCalled()
    run.mockRestore()
    enterWith.mockRestore()
  })

  it('leaves a request the provider sends after an await of its own unchanged, and the client as it was', async () => {
    // Prepare: a provider that awaits something of its own before it sends (as AppConfig does
    // with a new session)
    const client = new FakeClient()
    const provider = {
      client,
      get: async (name: string) => {
        await Promise.resolve()
        return client.send({ name })
      },
    }

    // Act
    const result = await withAbortSignal(provider, new AbortController().signal, () =>
      provider.get('/chaos'),
    )

    // Assess
    expect(result).toEqual({ command: { name: '/chaos' }, options: undefined })
    expect(Object.hasOwn(client, 'send')).toBe(false)
  })
})
