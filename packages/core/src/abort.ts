/**
 * Ending a store request that the source gives up on. Powertools providers
 * take no abort signal in `get`; their AWS SDK v3 client's `send` does. A
 * fetch runs its provider call in {@link withAbortSignal}, and the provider's
 * client (patched once, on its first fetch) passes the fetch's signal to the
 * SDK, whose HTTP handler then destroys the request and its socket. Calls made
 * through the same client anywhere else see no difference.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'

const fetchSignal = new AsyncLocalStorage<AbortSignal>()
const patched = new WeakSet<object>()

type Send = (this: unknown, command: unknown, options?: unknown, callback?: unknown) => unknown

/** The AWS SDK v3 client a Powertools provider keeps in `client`, if it has one. */
const sdkClientOf = (provider: unknown): { send: Send } | undefined => {
  if (typeof provider !== 'object' || provider === null) return undefined
  const client = (provider as { client?: unknown }).client
  if (typeof client !== 'object' || client === null) return undefined
  const send = (client as { send?: unknown }).send
  return typeof send === 'function' && 'middlewareStack' in client
    ? (client as unknown as { send: Send })
    : undefined
}

const patch = (client: { send: Send }): void => {
  const send = client.send
  const withSignal: Send = function (this: unknown, command, options, callback) {
    const signal = fetchSignal.getStore()
    // Only the source's own fetch carries a signal; a call with a callback is left as it is.
    if (signal === undefined || typeof options === 'function' || callback !== undefined)
      return send.call(this, command, options, callback)
    const given = (options ?? {}) as { abortSignal?: unknown }
    return send.call(this, command, { ...given, abortSignal: given.abortSignal ?? signal })
  }
  Object.defineProperty(client, 'send', { value: withSignal, configurable: true, writable: true })
  patched.add(client)
}

/**
 * Runs a provider call so that the SDK request it makes ends when `signal`
 * aborts. A provider without an AWS SDK v3 client is called as it is (the
 * source still stops waiting for it at the same bound).
 */
export const withAbortSignal = <T>(
  provider: unknown,
  signal: AbortSignal,
  call: () => Promise<T>,
): Promise<T> => {
  const client = sdkClientOf(provider)
  if (client === undefined) return call()
  if (!patched.has(client)) patch(client)
  return fetchSignal.run(signal, call)
}
