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

/** The signal of the fetch whose provider call is running synchronously, if one is. */
let windowSignal: AbortSignal | undefined

type Send = (this: unknown, ...args: unknown[]) => unknown
type SdkClient = { send: Send }

/** The clients in a fetch's synchronous moment: how many fetches, and their own `send` before. */
const installed = new Map<object, { fetches: number; own?: PropertyDescriptor; wrapper: Send }>()

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

/** Gives `client` the wrapper for one more fetch; false when its `send` cannot be replaced. */
const install = (client: SdkClient): boolean => {
  const entry = installed.get(client)
  if (entry !== undefined) {
    entry.fetches++
    return true
  }
  const own = Object.getOwnPropertyDescriptor(client, 'send')
  const prototype = Object.getPrototypeOf(client) as object | null
  const wrapper: Send = function (this: unknown, ...args: unknown[]) {
    // The client's own send: the one it had, else its prototype's as it is now.
    const base = (own?.value ??
      (prototype ? Reflect.get(prototype, 'send', client) : undefined)) as Send
    const signal = windowSignal
    const [command, options] = args
    // Only the source's own request carries a signal; anything else goes through unchanged.
    if (signal === undefined || args.length > 2 || typeof options === 'function')
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
    return false
  }
  installed.set(client, { fetches: 1, ...(own === undefined ? {} : { own }), wrapper })
  return true
}

/** One fetch fewer through `client`; the last puts its `send` back, unless someone replaced ours. */
const uninstall = (client: SdkClient): void => {
  const entry = installed.get(client)
  if (entry === undefined || --entry.fetches > 0) return
  installed.delete(client)
  if (Object.getOwnPropertyDescriptor(client, 'send')?.value !== entry.wrapper) return
  try {
    if (entry.own === undefined) delete (client as { send?: Send }).send
    else Object.defineProperty(client, 'send', entry.own)
  } catch {
    // left as it is: the wrapper passes everything through without a fetch
  }
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
  if (client === undefined || !install(client)) return call()
  const outer = windowSignal
  windowSignal = signal
  let pending: Promise<T>
  try {
    pending = call()
  } finally {
    windowSignal = outer
    uninstall(client)
  }
  return pending
}
