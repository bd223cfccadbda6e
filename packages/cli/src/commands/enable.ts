import {
  type AnyFaultDefinition,
  FAILURE_LAMBDA_MODES,
  type FaultCatalog,
  type FaultFlag,
  faultTypeNames,
  findFault,
  isFailureLambdaConfig,
  isRecord,
} from '@middy-chaos/core'
import { UsageError } from '@middy-chaos/experiment'
import { createStore } from '../stores/index.js'
import {
  numberOption,
  type OptionSpecs,
  type OptionValues,
  STORE_HELP,
  STORE_OPTIONS,
  storeSelection,
  stringOption,
} from './args.js'
import type { Command } from './command.js'
import {
  assertValid,
  FOR_HELP,
  FOR_OPTION,
  parseStored,
  withExpiry,
  writeAndReport,
} from './writes.js'

/** Every flag of every fault, once per name. */
const allFlags = (faults: FaultCatalog): Map<string, FaultFlag> => {
  const flags = new Map<string, FaultFlag>()
  for (const fault of faults) for (const flag of fault.flags ?? []) flags.set(flag.name, flag)
  return flags
}

/** `provider=stripe,region=eu` as `{ provider: 'stripe', region: 'eu' }`; each key once. */
const mapValue = (name: string, text: string): Record<string, string> => {
  const map: Record<string, string> = {}
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=')
    const key = pair.slice(0, at).trim()
    if (at <= 0 || key.length === 0 || Object.hasOwn(map, key))
      throw new UsageError(
        `--${name}: expected key=value pairs, comma-separated, each key once (got ${JSON.stringify(text)})`,
      )
    // Defined, not assigned: a key such as `__proto__` reaches the fault's checks as written.
    Object.defineProperty(map, key, {
      value: pair.slice(at + 1).trim(),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return map
}

const flagValue = (flag: FaultFlag, values: OptionValues): unknown => {
  const raw = values[flag.name]
  if (raw === undefined) return undefined
  if (flag.type === 'boolean') return raw === true
  const text = String(raw)
  if (flag.type === 'string') return text
  if (flag.type === 'map') return mapValue(flag.name, text)
  return numberOption(flag.name, text, 0, flag.type === 'integer' ? Number.isInteger : undefined)
}

/** Whether a stored object is chaos_lambda's flat format (the workshop's). */
const isChaosLambda = (value: Record<string, unknown>): boolean =>
  value.faults === undefined && ('is_enabled' in value || 'fault_type' in value)

/**
 * The workshop's value: chaos_lambda's flat keys for every fault that has
 * them, in the registry's order, so the value stays readable by chaos_lambda.
 */
const chaosLambdaValue = (
  fault: AnyFaultDefinition,
  faults: FaultCatalog,
  current: Record<string, unknown> | undefined,
  values: OptionValues,
  rate: number | undefined,
): Record<string, unknown> => {
  const value: Record<string, unknown> = { is_enabled: true, fault_type: fault.type }
  for (const other of faults) {
    for (const [field, key] of Object.entries(other.formats?.chaosLambda ?? {})) {
      const flag = other.flags?.find((candidate) => candidate.field === field)
      const given = other === fault && flag ? flagValue(flag, values) : undefined
      const chosen = given ?? current?.[key] ?? flag?.default
      if (chosen !== undefined) value[key] = chosen
    }
  }
  value.rate = rate ?? current?.rate ?? 1
  return value
}

/** middy-chaos's own format, with this one fault; `kept` fills what no flag gives. */
const middyChaosValue = (
  fault: AnyFaultDefinition,
  values: OptionValues,
  rate: number | undefined,
  kept: Record<string, unknown> = {},
): Record<string, unknown> => {
  const entry: Record<string, unknown> = { type: fault.type }
  for (const flag of fault.flags ?? []) {
    const chosen = flagValue(flag, values) ?? kept[flag.field] ?? flag.default
    if (chosen !== undefined) entry[flag.field] = chosen
  }
  const chosenRate = rate ?? kept.rate
  if (chosenRate !== undefined) entry.rate = chosenRate
  return { version: 1, faults: [entry] }
}

/** The flags given for this fault that chaos_lambda's format has no key for. */
const unspelledFlags = (fault: AnyFaultDefinition, values: OptionValues): FaultFlag[] => {
  const spelled = fault.formats?.chaosLambda ?? {}
  return (fault.flags ?? []).filter(
    (flag) => values[flag.name] !== undefined && !Object.hasOwn(spelled, flag.field),
  )
}

/** This fault's settings in a chaos_lambda value (as chaos_lambda's format would keep them), and its rate. */
const keptFromChaosLambda = (
  fault: AnyFaultDefinition,
  current: Record<string, unknown>,
): Record<string, unknown> => {
  const kept: Record<string, unknown> = {}
  for (const [field, key] of Object.entries(fault.formats?.chaosLambda ?? {}))
    if (current[key] !== undefined) kept[field] = current[key]
  if (current.rate !== undefined) kept.rate = current.rate
  return kept
}

/**
 * A failure-lambda value turned back on in its own format: 0.x `isEnabled:
 * true`; 1.x `enabled: true` on every flag (mode) it holds, as which were on
 * before `disable` is not recorded. `undefined` for another format.
 */
const failureLambdaOn = (
  current: Record<string, unknown>,
): { value: Record<string, unknown>; modes?: string[] } | undefined => {
  if (!isFailureLambdaConfig(current)) return undefined
  if ('isEnabled' in current || 'failureMode' in current)
    return { value: { ...current, isEnabled: true } }
  const modes: string[] = FAILURE_LAMBDA_MODES.filter((mode) => isRecord(current[mode]))
  const value = Object.fromEntries(
    Object.entries(current).map(([key, flag]) => [
      key,
      modes.includes(key) && isRecord(flag) ? { ...flag, enabled: true } : flag,
    ]),
  )
  return { value, modes }
}

/** `middy-chaos enable [fault] [flags]`: turns one fault on, with the flags its package offers. */
export const enableCommand: Command = {
  name: 'enable',
  positionals: 1,
  usage: ['enable [<fault>] [fault flags] [--rate 1]'],
  help: ({ faults }) => {
    const lines = faults.map((fault) => {
      const flags = (fault.flags ?? [])
        .map(
          (flag) =>
            `      --${flag.name}${flag.type === 'boolean' ? '' : flag.type === 'map' ? ' <key=value,…>' : ` <${flag.type}>`}  ${flag.description}${flag.default === undefined ? '' : ` (default ${flag.default})`}`,
        )
        .join('\n')
      return `  ${fault.type}: ${fault.summary ?? ''}${flags ? `\n${flags}` : ''}`
    })
    return `middy-chaos enable [<fault>] [flags] [options]
  Turns a fault on. Without a fault, turns the stored config back on as it is (in
  failure-lambda 1.x's format: every flag it holds).
  Faults with a chaos_lambda spelling (the workshop's) are written in chaos_lambda's format when
  the store holds that format or nothing, unless a flag given has no chaos_lambda key
  (--prevent-execution); the others in middy-chaos's format.
  --rate <0..1>          share of invocations (default 1)
${FOR_HELP}
${lines.join('\n')}
${STORE_HELP}`
  },
  options: ({ faults }) => {
    const options: OptionSpecs = { ...STORE_OPTIONS, ...FOR_OPTION, rate: { type: 'string' } }
    for (const flag of allFlags(faults).values())
      options[flag.name] = { type: flag.type === 'boolean' ? 'boolean' : 'string' }
    return options
  },
  async run({ values, positionals }, { terminal, faults }) {
    const store = createStore(storeSelection(values))
    const current = parseStored((await store.read())?.value)
    const requested = positionals[0]
    if (requested === undefined) {
      // Re-enable what is there.
      const { expiresAt: _, ...settings } = current ?? {}
      const failureLambda = failureLambdaOn(settings)
      const again =
        current && isChaosLambda(current) && typeof current.fault_type === 'string'
          ? { ...settings, is_enabled: true }
          : current && Array.isArray(current.faults)
            ? { ...settings, enabled: true }
            : failureLambda?.value
      if (again !== undefined) {
        const { value } = withExpiry(JSON.stringify(again), values, faults)
        assertValid(value, faults)
        if (failureLambda?.modes)
          terminal.line(
            `Turned on every failure-lambda flag the value holds: ${failureLambda.modes.join(', ')} (which were on before disable is not recorded)`,
          )
        return writeAndReport(store, value, 'cli: enable', terminal, faults)
      }
      throw new UsageError(`enable: which fault? (${faultTypeNames(faults)})`)
    }
    const fault = findFault(faults, requested)
    if (fault === undefined) {
      throw new UsageError(
        `enable: unknown fault "${requested}" (known: ${faultTypeNames(faults)})`,
      )
    }
    const own = new Set((fault.flags ?? []).map((flag) => flag.name))
    for (const name of allFlags(faults).keys()) {
      if (values[name] !== undefined && !own.has(name)) {
        const offered = [...own].map((flag) => `--${flag}`).join(', ') || 'none'
        throw new UsageError(`--${name} is not a flag of ${fault.type} (its flags: ${offered})`)
      }
    }
    const rateText = stringOption(values, 'rate')
    const rate =
      rateText === undefined
        ? undefined
        : numberOption('rate', rateText, 1, (n) => n >= 0 && n <= 1)
    const workshopShaped =
      fault.formats?.chaosLambda !== undefined && (current === undefined || isChaosLambda(current))
    // A flag chaos_lambda's format has no key for (--prevent-execution) would be lost in it.
    const unspelled = workshopShaped ? unspelledFlags(fault, values) : []
    if (unspelled.length > 0)
      terminal.error(
        `note: chaos_lambda's format has no key for ${unspelled.map((flag) => `--${flag.name}`).join(', ')}: written in middy-chaos's format`,
      )
    const value =
      workshopShaped && unspelled.length === 0
        ? chaosLambdaValue(fault, faults, current, values, rate)
        : middyChaosValue(
            fault,
            values,
            rate,
            current && unspelled.length > 0 ? keptFromChaosLambda(fault, current) : {},
          )
    const { value: text } = withExpiry(JSON.stringify(value), values, faults)
    assertValid(text, faults)
    return writeAndReport(store, text, `cli: enable ${fault.type}`, terminal, faults)
  },
}
