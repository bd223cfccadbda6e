/**
 * What the tooling says about a config value, with the registry of faults:
 * every problem the middlewares would find (`checkConfig`), and a short phrase
 * for what it does (`describeConfig`).
 *
 * @module
 */
import {
  type ConfigIssue,
  decodeConfigValue,
  describeValue,
  type FaultCatalog,
  FieldReader,
  faultTypeNames,
  findFault,
  fromFailureLambda,
  isFailureLambdaConfig,
  isRecord,
  parseConfig,
} from '@middy-chaos/core'
import { FAULTS } from './faults.js'

/** What {@link checkConfig} finds. */
export interface ConfigCheck {
  /**
   * Problems: a middleware would ignore the entry (or the document), or drop or
   * skip part of a failure-lambda document.
   */
  issues: ConfigIssue[]
  /** How a translated format (failure-lambda) is approximated: informational. */
  notes: string[]
}

/** The failure-lambda modes the faults of a catalog declare, in its order. */
const failureLambdaModes = (faults: FaultCatalog): string[] =>
  faults.flatMap((fault) => {
    const mode = fault.formats?.failureLambda?.mode
    return mode === undefined ? [] : [mode]
  })

/** The failure-lambda 0.x `failureMode` values that inject something with a catalog. */
const failureModes = (faults: FaultCatalog): string[] =>
  failureLambdaModes(faults).filter((mode) => {
    const { document } = fromFailureLambda({ isEnabled: true, failureMode: mode, rate: 1 }, faults)
    return Array.isArray(document.faults) && document.faults.length > 0
  })

/**
 * A note of the failure-lambda translation that says a part is dropped or
 * skipped (core's `warnings`), as an issue naming that part:
 * `latency: enabled must be true or false (got "maybe") (failure-lambda skips this flag)`.
 */
const droppedIssue = (note: string): ConfigIssue => {
  const match = /^([\w.[\]]+): (.*)$/.exec(note)
  if (match === null) return { path: 'failure-lambda', message: note }
  const [, path = '', rest = ''] = match
  const skipped = /^skipped, as failure-lambda (?:skips an invalid flag|does): (.*)$/.exec(rest)
  return {
    path,
    message: skipped ? `${skipped[1]} (failure-lambda skips this flag)` : rest,
  }
}

/**
 * What a failure-lambda document has that the translation reads as "inject
 * nothing" without a warning: a 0.x `failureMode` that is no mode, an
 * `isEnabled` that is not a boolean, a 1.x key holding a flag of no mode.
 */
const failureLambdaIssues = (
  raw: Record<string, unknown>,
  format: string,
  faults: FaultCatalog,
  warned: ReadonlySet<string>,
): ConfigIssue[] => {
  const issues: ConfigIssue[] = []
  if (format === 'failure-lambda-0') {
    const { isEnabled, failureMode } = raw
    if (isEnabled !== undefined && typeof isEnabled !== 'boolean')
      issues.push({
        path: 'isEnabled',
        message: `must be true or false (got ${describeValue(isEnabled)})`,
      })
    const known = failureModes(faults)
    const mode = failureMode === 'blacklist' ? 'denylist' : failureMode
    const given = failureMode !== undefined || isEnabled === true
    if (given && !warned.has('failureMode') && (typeof mode !== 'string' || !known.includes(mode)))
      issues.push({
        path: 'failureMode',
        message: `${failureMode === undefined ? 'missing' : `${describeValue(failureMode)} is not a failure-lambda 0.x mode`} (known: ${known.join(', ')})`,
      })
    return issues
  }
  for (const [key, flag] of Object.entries(raw)) {
    // A mode of failure-lambda makes a document one: `{ [mode]: {} }` is, `{ explode: {} }` is not.
    if (isRecord(flag) && !warned.has(key) && !isFailureLambdaConfig({ [key]: {} }))
      issues.push({
        path: key,
        message: `not a failure-lambda mode (known: ${failureLambdaModes(faults).join(', ')})`,
      })
  }
  return issues
}

/** A JSON object that is in none of the formats: one issue naming them, instead of `faults: …`. */
const unknownShape = (raw: Record<string, unknown>, faults: FaultCatalog): ConfigIssue => {
  const keys = Object.keys(raw)
  const got =
    keys.length === 0 ? 'an empty object' : `keys ${keys.map((k) => JSON.stringify(k)).join(', ')}`
  return {
    path: '(document)',
    message: `not a chaos config (got ${got}): write middy-chaos's {"version":1,"faults":[{"type":…}]} (fault types: ${faultTypeNames(faults)}), chaos_lambda's {"is_enabled":true,"fault_type":…}, or failure-lambda's {"<mode>":{"enabled":true,…}} (modes: ${failureLambdaModes(faults).join(', ')}) or {"isEnabled":true,"failureMode":…}`,
  }
}

/**
 * Every problem of a chaos config value, as the middlewares would see it: the
 * document (core's `parseConfig`), then each entry with its own fault
 * package's rules (`delay: -1`, `error_code: 999`). An entry whose type no
 * fault of the registry has is a problem too, naming the known types; so is
 * a JSON object in none of the formats. In a failure-lambda document, what
 * the translation drops or skips (core's `warnings`: an invalid flag, a mode
 * no fault declares, a pattern that does not translate) and a mode that is
 * none (`failureMode: "explode"`) are problems, named by their part; how it
 * approximates (`max_latency` 400 read as 399 ms) stays a note.
 *
 * @example
 * ```ts
 * checkConfig('{"version":1,"faults":[{"type":"latncy"}]}').issues
 * // [{ path: 'faults[0].type', message: 'unknown fault type "latncy" (known: latency, status_code, …)' }]
 * ```
 */
export const checkConfig = (value: unknown, faults: FaultCatalog = FAULTS): ConfigCheck => {
  const { document, issues, notes = [], warnings = [] } = parseConfig(value, { faults })
  const raw = decodeConfigValue(value).value
  const all: ConfigIssue[] = []
  if (
    isRecord(raw) &&
    raw.faults === undefined &&
    raw.version === undefined &&
    !('is_enabled' in raw || 'fault_type' in raw) &&
    !document.format.startsWith('failure-lambda')
  )
    all.push(unknownShape(raw, faults))
  else all.push(...issues)
  // failure-lambda: what the translation drops or skips is a problem (the value would inject
  // less than it says); how it approximates stays a note.
  const dropped = warnings.map(droppedIssue)
  all.push(...dropped)
  if (isRecord(raw) && document.format.startsWith('failure-lambda'))
    all.push(
      ...failureLambdaIssues(raw, document.format, faults, new Set(dropped.map((i) => i.path))),
    )
  const refused = new Set(all.map((issue) => issue.path))
  for (const spec of document.faults) {
    const definition = findFault(faults, spec.type)
    if (definition === undefined) {
      all.push({
        path: spec.path ? `${spec.path}.type` : 'fault_type',
        message: `unknown fault type "${spec.type}" (known: ${faultTypeNames(faults)})`,
      })
      continue
    }
    try {
      definition.parse(
        new FieldReader(spec.fields, spec.path, all, spec.aliases),
        definition.defaults ?? {},
      )
    } catch (error) {
      all.push({ path: spec.path || spec.type, message: (error as Error).message })
    }
    if (spec.phase !== undefined && !definition.phases.includes(spec.phase)) {
      all.push({
        path: spec.path ? `${spec.path}.phase` : 'phase',
        message: `a ${definition.type} fault runs in ${definition.phases.map((p) => `"${p}"`).join(' or ')}, not "${spec.phase}"`,
      })
    }
  }
  return {
    issues: all,
    notes: notes.filter(
      (note) => !warnings.includes(note) && !refused.has(note.split(':')[0] ?? ''),
    ),
  }
}

/** Every problem of a config value (see {@link checkConfig}). */
export const validateConfig = (value: unknown, faults: FaultCatalog = FAULTS): ConfigIssue[] =>
  checkConfig(value, faults).issues

/** One entry in people's words: the fault's own `describe`, or its type. */
const describeEntry = (
  faults: FaultCatalog,
  type: string,
  fields: Readonly<Record<string, unknown>>,
  path: string,
  aliases: Readonly<Record<string, string>> | undefined,
): string => {
  const definition = findFault(faults, type)
  if (definition?.describe) {
    try {
      const params = definition.parse(
        new FieldReader(fields, path, [], aliases),
        definition.defaults ?? {},
      )
      if (params !== undefined) return definition.describe(params)
    } catch {
      // Described by its type below.
    }
  }
  return type.replace(/_/g, ' ')
}

/**
 * One short phrase for what a config value does: `latency 400ms`,
 * `status code 404`, `exception`, `faults off`, `invalid (fault_type: ...)`.
 */
export const describeConfig = (value: unknown, faults: FaultCatalog = FAULTS): string => {
  if (value === undefined) return 'no value (faults off)'
  const { document, issues } = parseConfig(value, { faults })
  if (!document.enabled || document.faults.length === 0) {
    return issues.length > 0 ? `invalid (${issues[0]?.path}: ${issues[0]?.message})` : 'faults off'
  }
  return document.faults
    .map((fault) => {
      const text = describeEntry(faults, fault.type, fault.fields, fault.path, fault.aliases)
      return fault.rate < 1 ? `${text} (rate ${fault.rate})` : text
    })
    .join(' + ')
}
