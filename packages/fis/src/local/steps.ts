/**
 * The steps of an SSM Automation document, read and checked for what the
 * local player can interpret (see `document.ts`): each step's action, inputs,
 * outputs and routes (`onFailure`, `onCancel`, `nextStep`), `aws:loop` over
 * literal `Iterators` unrolled, and the flow between the steps.
 *
 * @module
 */
import { isRecord } from '@middy-chaos/core'
import {
  FIS_VERSION,
  HANDLER_INPUTS,
  type HandlerName,
  isGeneratedScript,
  RUNBOOK_MARKER,
} from './handlers.js'
import { parseIsoDuration } from './template.js'
import { parseSelector, VALUE_TYPES, type ValueType, variablesIn } from './variables.js'

/** The SSM API calls the player makes against the store. */
export const SSM_APIS = ['GetParameter', 'PutParameter', 'DeleteParameter'] as const
export type SsmApi = (typeof SSM_APIS)[number]

/** The inputs each SSM call takes (besides `Service` and `Api`). */
const API_INPUTS: Record<SsmApi, { required: string[]; optional: string[] }> = {
  GetParameter: { required: ['Name'], optional: ['WithDecryption'] },
  PutParameter: {
    required: ['Name', 'Value'],
    optional: ['Type', 'Overwrite', 'Description', 'DataType', 'Tier', 'AllowedPattern'],
  },
  DeleteParameter: { required: ['Name'], optional: [] },
}

/** Where a step goes on failure or cancel: stop, go on (`Continue`), or a named step. */
export type StepRoute = 'Abort' | 'Continue' | { step: string }

export interface StepOutput {
  readonly name: string
  readonly selector: string
  readonly type: ValueType
}

interface StepBase {
  readonly name: string
  readonly inputs: Readonly<Record<string, unknown>>
  readonly outputs: readonly StepOutput[]
  readonly onFailure: StepRoute
  readonly onCancel: 'Abort' | { step: string }
  readonly nextStep?: string
  readonly isEnd: boolean
  readonly isCritical: boolean
  readonly maxAttempts: number
  readonly timeoutSeconds?: number
}

/** A step the player can run. */
export type AutomationStep =
  | (StepBase & { readonly action: 'aws:executeAwsApi'; readonly api: SsmApi })
  | (StepBase & { readonly action: 'aws:sleep' })
  | (StepBase & { readonly action: 'aws:executeScript'; readonly handler: HandlerName })

const STEP_FIELDS = new Set([
  'name',
  'action',
  'description',
  'inputs',
  'outputs',
  'onFailure',
  'onCancel',
  'nextStep',
  'isEnd',
  'isCritical',
  'maxAttempts',
  'timeoutSeconds',
])
/** `onCancel` may not move to these (SSM's own rule). */
const NOT_ON_CANCEL = new Set(['aws:sleep'])
const PLAYED_ACTIONS = ['aws:executeAwsApi', 'aws:sleep', 'aws:executeScript', 'aws:loop']
/** SSM's limit on the iterations of an `aws:loop`. */
const MAX_LOOP_ITERATIONS = 100

/** `GetParameter`, `get_parameter`, `getParameter`: the SSM call named. */
const apiName = (text: unknown): SsmApi | undefined =>
  typeof text === 'string'
    ? SSM_APIS.find((api) => api.toLowerCase() === text.replaceAll('_', '').toLowerCase())
    : undefined

const route = (value: unknown, at: string, problems: string[], cancel: boolean): StepRoute => {
  if (value === undefined || value === 'Abort') return 'Abort'
  if (value === 'Continue' && !cancel) return 'Continue'
  if (typeof value === 'string' && value.startsWith('step:')) return { step: value.slice(5) }
  problems.push(
    `${at}: ${JSON.stringify(value)} is not ${cancel ? 'Abort or step:<name>' : 'Abort, Continue or step:<name>'}`,
  )
  return 'Abort'
}

export const parseStep = (
  raw: unknown,
  index: number,
  problems: string[],
): AutomationStep | undefined => {
  if (!isRecord(raw) || typeof raw.name !== 'string' || !/^[A-Za-z0-9_]+$/.test(raw.name)) {
    problems.push(`mainSteps[${index}].name: must be a name of letters, digits and _`)
    return undefined
  }
  const at = `step ${raw.name}`
  const before = problems.length
  for (const key of Object.keys(raw)) {
    if (!STEP_FIELDS.has(key)) problems.push(`${at}: ${key}: unknown field`)
  }
  const inputs = isRecord(raw.inputs) ? raw.inputs : {}
  if (!isRecord(raw.inputs)) problems.push(`${at}: inputs: must be an object`)
  const outputs: StepOutput[] = []
  if (raw.outputs !== undefined && !Array.isArray(raw.outputs))
    problems.push(`${at}: outputs: must be a list`)
  for (const output of Array.isArray(raw.outputs) ? raw.outputs : []) {
    if (
      !isRecord(output) ||
      typeof output.Name !== 'string' ||
      typeof output.Selector !== 'string' ||
      !VALUE_TYPES.includes(output.Type as ValueType)
    ) {
      problems.push(
        `${at}: outputs: each needs Name, Selector and Type (${VALUE_TYPES.join(', ')})`,
      )
    } else if (parseSelector(output.Selector) === undefined) {
      problems.push(
        `${at}: outputs.${output.Name}: Selector ${output.Selector} is not played locally (simple paths only: $.Parameter.Value, $.Payload.items[0])`,
      )
    } else
      outputs.push({ name: output.Name, selector: output.Selector, type: output.Type as ValueType })
  }
  const number = (key: string, min: number): number | undefined => {
    const value = raw[key]
    if (value === undefined) return undefined
    const n = typeof value === 'string' ? Number(value) : value
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
      problems.push(`${at}: ${key}: must be an integer ≥ ${min}`)
      return undefined
    }
    return n
  }
  const flag = (key: string): boolean | undefined => {
    const value = raw[key]
    if (value === undefined) return undefined
    if (value === true || value === 'true') return true
    if (value === false || value === 'false') return false
    problems.push(`${at}: ${key}: must be true or false`)
    return undefined
  }
  const onFailure = route(raw.onFailure, `${at}: onFailure`, problems, false)
  const onCancel = route(raw.onCancel, `${at}: onCancel`, problems, true) as StepBase['onCancel']
  if (raw.nextStep !== undefined && typeof raw.nextStep !== 'string')
    problems.push(`${at}: nextStep: must be a step name`)
  const timeoutSeconds = number('timeoutSeconds', 1)
  const base: StepBase = {
    name: raw.name,
    inputs,
    outputs,
    onFailure,
    onCancel,
    ...(typeof raw.nextStep === 'string' ? { nextStep: raw.nextStep } : {}),
    isEnd: flag('isEnd') ?? false,
    isCritical: flag('isCritical') ?? onFailure !== 'Continue',
    maxAttempts: number('maxAttempts', 1) ?? 1,
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
  }
  const inputNames = (allowed: { required: string[]; optional: string[] }, what: string) => {
    for (const key of allowed.required) {
      if (inputs[key] === undefined) problems.push(`${at}: inputs.${key}: missing (${what})`)
    }
    for (const key of Object.keys(inputs)) {
      if (!allowed.required.includes(key) && !allowed.optional.includes(key))
        problems.push(`${at}: inputs.${key}: not played locally for ${what}`)
    }
  }
  switch (raw.action) {
    case 'aws:executeAwsApi': {
      const service = inputs.Service
      const api = apiName(inputs.Api)
      if (typeof service !== 'string' || service.toLowerCase() !== 'ssm') {
        problems.push(
          `${at}: aws:executeAwsApi Service ${JSON.stringify(service)} is not played locally (only ssm: ${SSM_APIS.join(', ')})`,
        )
        return undefined
      }
      if (api === undefined) {
        problems.push(
          `${at}: aws:executeAwsApi ssm ${JSON.stringify(inputs.Api)} is not played locally (${SSM_APIS.join(', ')})`,
        )
        return undefined
      }
      inputNames(
        {
          required: API_INPUTS[api].required,
          optional: ['Service', 'Api', ...API_INPUTS[api].optional],
        },
        `ssm ${api}`,
      )
      return problems.length > before ? undefined : { ...base, action: 'aws:executeAwsApi', api }
    }
    case 'aws:sleep': {
      inputNames({ required: [], optional: ['Duration', 'Timestamp'] }, 'aws:sleep')
      if ((inputs.Duration === undefined) === (inputs.Timestamp === undefined))
        problems.push(`${at}: aws:sleep needs inputs.Duration or inputs.Timestamp`)
      const duration = inputs.Duration
      if (
        typeof duration === 'string' &&
        variablesIn(duration).length === 0 &&
        parseIsoDuration(duration) === undefined
      )
        problems.push(`${at}: inputs.Duration: "${duration}" is not an ISO 8601 duration (PT10M)`)
      return problems.length > before ? undefined : { ...base, action: 'aws:sleep' }
    }
    case 'aws:executeScript': {
      const script = inputs.Script
      if (typeof script !== 'string' || !script.trimStart().startsWith(RUNBOOK_MARKER)) {
        problems.push(
          `${at}: aws:executeScript runs a script the local player cannot run: only the middy-chaos runbook handlers (Script starting with "${RUNBOOK_MARKER}") are played`,
        )
        return undefined
      }
      const handler = inputs.Handler
      if (typeof handler !== 'string' || !(handler in HANDLER_INPUTS)) {
        problems.push(
          `${at}: Handler ${JSON.stringify(handler)} is not a middy-chaos runbook handler (${Object.keys(HANDLER_INPUTS).join(', ')})`,
        )
        return undefined
      }
      if (!isGeneratedScript(script, handler as HandlerName)) {
        problems.push(
          `${at}: aws:executeScript: its script is not the one @middy-chaos/fis ${FIS_VERSION} generates for handler ${handler}; the player only plays that script unchanged (it runs a TypeScript equivalent, never the script itself)`,
        )
        return undefined
      }
      inputNames(
        { required: ['Runtime', 'Handler', 'Script', 'InputPayload'], optional: [] },
        'aws:executeScript',
      )
      if (typeof inputs.Runtime !== 'string' || !inputs.Runtime.startsWith('python3'))
        problems.push(`${at}: inputs.Runtime: ${JSON.stringify(inputs.Runtime)} is not python3.x`)
      const payload = isRecord(inputs.InputPayload) ? inputs.InputPayload : {}
      const expected = HANDLER_INPUTS[handler as HandlerName]
      for (const key of expected.required) {
        if (typeof payload[key] !== 'string')
          problems.push(`${at}: inputs.InputPayload.${key}: missing (handler ${handler})`)
      }
      for (const key of Object.keys(payload)) {
        if (!expected.required.includes(key) && !expected.optional.includes(key))
          problems.push(`${at}: inputs.InputPayload.${key}: not an input of handler ${handler}`)
      }
      return problems.length > before
        ? undefined
        : { ...base, action: 'aws:executeScript', handler: handler as HandlerName }
    }
    default:
      problems.push(
        `${at}: action ${JSON.stringify(raw.action)} is not played locally (${PLAYED_ACTIONS.join(', ')})`,
      )
      return undefined
  }
}

/** Replaces `{{ <loop>.CurrentIteratorValue }}` / `CurrentIteration` in every string of `value`. */
const fillIterator = (value: unknown, loop: string, item: string, iteration: number): unknown => {
  if (typeof value === 'string')
    return value.replace(
      new RegExp(`\\{\\{\\s*${loop}\\.(CurrentIteratorValue|CurrentIteration)\\s*\\}\\}`, 'g'),
      (_, which: string) => (which === 'CurrentIteration' ? String(iteration) : item),
    )
  if (Array.isArray(value)) return value.map((entry) => fillIterator(entry, loop, item, iteration))
  if (isRecord(value))
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [
        key,
        fillIterator(entry, loop, item, iteration),
      ]),
    )
  return value
}

/**
 * An `aws:loop` over literal `Iterators`, unrolled into its steps once per
 * iterator (named `<step>_<iteration>`). A step inside takes the loop's
 * `onFailure` when it has none, as SSM says it inherits it; steps outside
 * cannot route into the loop. `LoopCondition` loops, iterators from a
 * variable, a loop in a loop, `nextStep` and `isEnd` inside are refused.
 */
export const unrollLoop = (
  raw: Record<string, unknown>,
  index: number,
  problems: string[],
): AutomationStep[] => {
  const name = typeof raw.name === 'string' ? raw.name : `mainSteps[${index}]`
  const at = `step ${name}`
  const before = problems.length
  if (!/^[A-Za-z0-9_]+$/.test(name)) problems.push(`${at}: must be a name of letters, digits and _`)
  for (const key of Object.keys(raw)) {
    if (!['name', 'action', 'description', 'inputs', 'onFailure'].includes(key))
      problems.push(
        `${at}: ${key}: ${key === 'onCancel' ? 'SSM takes no onCancel on aws:loop (put it on its steps)' : 'not played locally for aws:loop'}`,
      )
  }
  const inputs = isRecord(raw.inputs) ? raw.inputs : {}
  for (const key of Object.keys(inputs)) {
    if (!['Iterators', 'IteratorDataType', 'Steps'].includes(key))
      problems.push(
        `${at}: inputs.${key}: not played locally (only loops over literal Iterators are)`,
      )
  }
  const iterators = inputs.Iterators
  if (
    !Array.isArray(iterators) ||
    iterators.length === 0 ||
    iterators.length > MAX_LOOP_ITERATIONS ||
    !iterators.every((item) => typeof item === 'string' || typeof item === 'number')
  )
    problems.push(
      `${at}: inputs.Iterators: a list of 1 to ${MAX_LOOP_ITERATIONS} literal values is played (not a variable)`,
    )
  if (
    inputs.IteratorDataType !== undefined &&
    !['String', 'Integer'].includes(String(inputs.IteratorDataType))
  )
    problems.push(`${at}: inputs.IteratorDataType: String or Integer`)
  const inner = Array.isArray(inputs.Steps) ? inputs.Steps : []
  if (inner.length === 0) problems.push(`${at}: inputs.Steps: a non-empty list of steps`)
  for (const step of inner) {
    if (isRecord(step) && (step.action === 'aws:loop' || 'nextStep' in step || 'isEnd' in step))
      problems.push(`${at}: step ${String(step.name)}: no loop, nextStep or isEnd inside a loop`)
  }
  if (problems.length > before || !Array.isArray(iterators)) return []
  const unrolled: AutomationStep[] = []
  iterators.forEach((item, position) => {
    for (const step of inner) {
      const withFailure =
        isRecord(step) && step.onFailure === undefined && raw.onFailure !== undefined
          ? { ...step, onFailure: raw.onFailure }
          : step
      const filled = fillIterator(withFailure, name, String(item), position + 1)
      const parsed = parseStep(filled, index, problems)
      if (parsed) unrolled.push({ ...parsed, name: `${parsed.name}_${position + 1}` })
    }
  })
  return unrolled
}

/** Every `step:<name>` and `nextStep` names a step; `onCancel` never moves to `aws:sleep`; names are unique. */
export const checkFlow = (steps: readonly AutomationStep[], problems: string[]): void => {
  const byName = new Map<string, AutomationStep>()
  for (const step of steps) {
    if (byName.has(step.name)) problems.push(`step ${step.name}: the name is used twice`)
    byName.set(step.name, step)
  }
  for (const step of steps) {
    const target = (what: string, name: string) => {
      const found = byName.get(name)
      if (!found) problems.push(`step ${step.name}: ${what}: no step named "${name}"`)
      return found
    }
    if (typeof step.onFailure === 'object') target('onFailure', step.onFailure.step)
    if (typeof step.onCancel === 'object') {
      const found = target('onCancel', step.onCancel.step)
      if (found && NOT_ON_CANCEL.has(found.action))
        problems.push(
          `step ${step.name}: onCancel: step:${found.name} is an ${found.action} step, which SSM does not allow as a cancel target`,
        )
    }
    if (step.nextStep !== undefined) target('nextStep', step.nextStep)
  }
}
