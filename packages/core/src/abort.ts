/**
 * Ending a store request that the source gives up on. Powertools providers
 * take no abort signal in `get`; their AWS SDK v3 client's `send` does. A
 * provider sends its request in the synchronous part of `get` (`SSMProvider`,
 * `SecretsProvider`, `DynamoDBProvider`, the built-in SSM store, and
 * `AppConfigProvider` once it holds a session token): for that moment only
 * ({@link withAbortSignal}), the provider's client has an own `send` that
 * passes the fetch's signal to the SDK, whose HTTP handler then destroys the
 * request and its socket; then the client is put back exactly as it was. No
 * code of yours runs in that moment, so a call your code makes through the same
 * client goes to the client's own `send`, with its arguments unchanged.
 *
 * Not with an `AsyncLocalStorage`, which would follow the request across the
 * provider's awaits: on Node.js 22, the first `run` of one turns on promise
 * hooks for the whole process, and every `await` of the function costs then
 * about 3 to 4 times as much, for as long as the environment lives. A request
 * a provider sends after an `await` of its own (`AppConfigProvider`'s first
 * `GetLatestConfiguration` of a session, after `StartConfigurationSession`)
 * is left to its client's own timeouts; the source stops waiting for it at the
 * same bound.
 *
 * @module
 */

type Send = (this: unknown, ...args: unknown[]) => unknown
type SdkClient = { send: Send }

/** The AWS SDK v3 client a Powertools provider keeps in `client`, if it has one. */
const sdkClientOf = (provider: unknown): SdkClient | undefined => {
  if (typeof provider !== 'object' || provider === null) return undefined
  const client = (provider as { client?: unknown }).client
  if (typeof client !== 'object' || client === null) return undefined
  const send = (client as { send?: unknown }).send
  return typeof send === 'function' && 'middlewareStack' in client
    ? (client as unknown as SdkClient)
    : undefined
}

/**
 * Runs a provider call so that the SDK request it sends synchronously ends when
 * `signal` aborts. A provider without an AWS SDK v3 client, or whose client's
 * `send` cannot be replaced, is called as it is (the source still stops
 * waiting for it at the same bound).
 */
export const withAbortSignal = async <T>(
  provider: unknown,
  signal: AbortSignal,
  call: () => Promise<T>,
): Promise<T> => {
  const client = sdkClientOf(provider)
  if (client === undefined) return call()
  const own = Object.getOwnPropertyDescriptor(client, 'send')
  const prototype = Object.getPrototypeOf(client) as object | null
  let inWindow = true
  const wrapper: Send = function (this: unknown, ...args: unknown[]) {
    // The client's own send: the one it had, else its prototype's as it is now.
    const base = (own?.value ??
      (prototype ? Reflect.get(prototype, 'send', client) : undefined)) as Send
    const [command, options] = args
    // After the window (a wrapper that could not be taken away), or a callback-style call:
    // through unchanged.
    if (!inWindow || args.length > 2 || typeof options === 'function')
      return Reflect.apply(base, this, args)
    const given = (options ?? {}) as { abortSignal?: unknown }
    return Reflect.apply(base, this, [
      command,
      { ...given, abortSignal: given.abortSignal ?? signal },
    ])
  }
  try {
    Object.defineProperty(client, 'send', { value: wrapper, configurable: true, writable: true })
  } catch {
    return call()
  }
  let pending: Promise<T>
  try {
    pending = call()
  } finally {
    inWindow = false
    // Put back as it was, unless the call replaced ours meanwhile.
    if (Object.getOwnPropertyDescriptor(client, 'send')?.value === wrapper) {
      try {
        if (own === undefined) delete (client as { send?: Send }).send
        else Object.defineProperty(client, 'send', own)
      } catch {
        // left as it is: past the window, the wrapper passes every call through unchanged
      }
    }
  }
  return pending
}
