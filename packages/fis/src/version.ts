/**
 * This package's version (its `package.json`'s): the local player of
 * `@middy-chaos/cli` names it when it refuses a runbook script that is not the
 * one this version generates.
 *
 * @module
 */

/** The version of `@middy-chaos/fis`. */
export const VERSION = '0.1.0'
