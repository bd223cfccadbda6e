import { makeHandler } from './chain.js'

/**
 * The deployed function: the chain of `chain.ts` with its chaos config read
 * from the store named by `CHAOS_PARAM`. Tests build their own chain from
 * `makeHandler` with a static config, and never import this module (creating
 * the middlewares starts fetching the config from the store).
 */
export const handler = makeHandler()
