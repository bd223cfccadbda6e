/**
 * Strict mode, for tests: a static `config` whose issues throw when the
 * middleware is created, instead of being logged and skipped. A value read
 * from a store is never strict: there a bad config must end in a warning and
 * an untouched invocation (fail-safe).
 *
 * @module
 */
import { parseConfig } from './config.js'
import { ChaosConfigError } from './errors.js'
import type { FaultRunner } from './runner.js'
import type { ChaosMiddlewareOptions, ConfigIssue } from './types.js'

/**
 * Throws a {@link ChaosConfigError} naming every issue a middleware would log
 * about its static config: the document's and the shared fields' (as
 * {@link parseConfig} reads them) and those of the entries of its own fault
 * type (its fields, its phase). Entries of other fault types are checked by
 * their own middlewares, each when it is created.
 */
export const assertStrictConfig = <P, O extends ChaosMiddlewareOptions>(
  runner: FaultRunner<P, O>,
  config: unknown,
): void => {
  const { document, issues } = parseConfig(config)
  const all: ConfigIssue[] = [...issues]
  try {
    runner.entries(document, all)
  } catch (error) {
    all.push({ path: '(fault)', message: `validation failed: ${(error as Error).message}` })
  }
  if (all.length > 0) throw new ChaosConfigError(all)
}
