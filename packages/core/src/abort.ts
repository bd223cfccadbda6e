/**
 * Ending a store request that the source gives up on. Powertools providers
 * take no abort signal in `get`; their AWS SDK v3 client's `send` does. While
 * a fetch runs its provider call ({@link withAbortSignal}), the provider's
 * client has an own `send` that passes the fetch's signal to the SDK, whose
 * HTTP handler then destroys the request and its socket; once no fetch runs
 * through it, the client is put back exactly as it was. A call your code makes
 * through the same client meanwhile goes to the client's own `send`, looked up
 * at the time of the call (a mock or a tracer set on the prototype since still
 * sees it), with its arguments unchanged.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'

const fetchSignal = new AsyncLocalStorage<AbortSignal>()

type Send = (this: unknown, ...args: unknown[]) => unknown
type SdkClient = { send: Send }

/** The clients with a fetch running through them: how many, and their own `send` before. */
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
    const signal = fetchSignal.getStore()
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
 * Runs a provider call so that the SDK request it makes ends when `signal`
 * aborts. A provider without an AWS SDK v3 client, or whose client's `send`
 * cannot be replaced, is called as it is (the source still stops waiting for
 * it at the same bound).
 */
export const withAbortSignal = async <T>(
  provider: unknown,
  signal: AbortSignal,
  call: () => Promise<T>,
): Promise<T> => {
  const client = sdkClientOf(provider)
  if (client === undefined || !install(client)) return call()
  try {
    return await fetchSignal.run(signal, call)
  } finally {
    uninstall(client)
  }
}
