/**
 * An SSM Automation document (schemaVersion 0.3, YAML or JSON), read and
 * checked for what the local player can interpret: `aws:executeAwsApi` with
 * SSM's `GetParameter` / `PutParameter` / `DeleteParameter`, `aws:sleep`,
 * `aws:executeScript` running the middy-chaos runbook handlers exactly as
 * `@middy-chaos/fis` generates them, and `aws:loop`
 * over literal `Iterators` (unrolled: its steps once per iterator, with
 * `{{ <loop>.CurrentIteratorValue }}` and `CurrentIteration` filled in); `onFailure`,
 * `onCancel`, `nextStep`, `isEnd`, `isCritical`, `maxAttempts`,
 * `timeoutSeconds`; `{{ variable }}` substitution; outputs with simple JSONPath
 * selectors. Everything else is refused by name before anything runs.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { isRecord } from '@middy-chaos/core'
import { CliError, describeError, InputError } from '@middy-chaos/experiment'
import { parse as parseYaml } from 'yaml'
import { type AutomationStep, checkFlow, parseStep, unrollLoop } from './steps.js'
import {
  EXECUTION_ID_VARIABLE,
  GLOBAL_VARIABLES,
  VALUE_TYPES,
  type ValueType,
  variablesIn,
} from './variables.js'

export {
  type AutomationStep,
  SSM_APIS,
  type SsmApi,
  type StepOutput,
  type StepRoute,
} from './steps.js'

/** One declared document parameter. */
export interface DocumentParameter {
  readonly type: ValueType
  readonly default?: unknown
  readonly allowedValues?: readonly unknown[]
  readonly allowedPattern?: string
}

/** A document, checked. */
export interface AutomationDocument {
  /** The document name FIS's `documentArn` ends with. */
  readonly name: string
  /** Where it was read from. */
  readonly source: string
  readonly description?: string
  readonly parameters: ReadonlyMap<string, DocumentParameter>
  readonly steps: readonly AutomationStep[]
}

const DOCUMENT_FIELDS = new Set([
  'schemaVersion',
  'description',
  'assumeRole',
  'parameters',
  'mainSteps',
  'outputs',
])
const PARAMETER_FIELDS = new Set([
  'type',
  'description',
  'default',
  'allowedValues',
  'allowedPattern',
  'displayType',
  'minItems',
  'maxItems',
  'minChars',
  'maxChars',
])
/**
 * Checks a parsed document. `name` is the document's name (from FIS's
 * `documentArn`); every problem is named by step and field.
 */
export const parseAutomationDocument = (
  raw: unknown,
  name: string,
  source = name,
): AutomationDocument => {
  const fail = (problems: string[]) =>
    new InputError(`cannot play SSM document ${name} (${source}): ${problems.join('; ')}`)
  if (!isRecord(raw)) throw fail(['must be a YAML or JSON object with "mainSteps"'])
  const problems: string[] = []
  if (String(raw.schemaVersion) !== '0.3')
    problems.push(
      `schemaVersion: ${JSON.stringify(raw.schemaVersion)}: only Automation documents (schemaVersion 0.3) are played`,
    )
  for (const key of Object.keys(raw)) {
    if (!DOCUMENT_FIELDS.has(key)) problems.push(`${key}: unknown field`)
  }
  const parameters = new Map<string, DocumentParameter>()
  if (raw.parameters !== undefined && !isRecord(raw.parameters))
    problems.push('parameters: must be an object')
  for (const [key, spec] of Object.entries(isRecord(raw.parameters) ? raw.parameters : {})) {
    const at = `parameters.${key}`
    if (!isRecord(spec) || !VALUE_TYPES.includes(spec.type as ValueType)) {
      problems.push(
        `${at}.type: ${JSON.stringify(isRecord(spec) ? spec.type : spec)} is not played locally (${VALUE_TYPES.join(', ')})`,
      )
      continue
    }
    for (const field of Object.keys(spec)) {
      if (!PARAMETER_FIELDS.has(field)) problems.push(`${at}.${field}: unknown field`)
    }
    parameters.set(key, {
      type: spec.type as ValueType,
      ...('default' in spec ? { default: spec.default } : {}),
      ...(Array.isArray(spec.allowedValues) ? { allowedValues: spec.allowedValues } : {}),
      ...(typeof spec.allowedPattern === 'string' ? { allowedPattern: spec.allowedPattern } : {}),
    })
  }
  const steps: AutomationStep[] = []
  if (!Array.isArray(raw.mainSteps) || raw.mainSteps.length === 0) {
    problems.push('mainSteps: must be a non-empty list of steps')
  } else {
    raw.mainSteps.forEach((step: unknown, index: number) => {
      if (isRecord(step) && step.action === 'aws:loop')
        steps.push(...unrollLoop(step, index, problems))
      else {
        const parsed = parseStep(step, index, problems)
        if (parsed) steps.push(parsed)
      }
    })
  }
  checkFlow(steps, problems)
  checkVariables(steps, parameters, problems)
  if (problems.length > 0) throw fail(problems)
  return {
    name,
    source,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    parameters,
    steps,
  }
}

/** Every `{{ variable }}` in the inputs names a parameter, a step output or an Automation variable. */
const checkVariables = (
  steps: readonly AutomationStep[],
  parameters: ReadonlyMap<string, DocumentParameter>,
  problems: string[],
): void => {
  const outputs = new Set(
    steps.flatMap((step) => [
      ...step.outputs.map((output) => `${step.name}.${output.name}`),
      ...(step.action === 'aws:executeScript' ? [`${step.name}.OutputPayload`] : []),
    ]),
  )
  const known = (name: string) =>
    parameters.has(name) ||
    outputs.has(name) ||
    name === EXECUTION_ID_VARIABLE ||
    (GLOBAL_VARIABLES as readonly string[]).includes(name)
  for (const step of steps) {
    const { Script: _script, ...inputs } = step.inputs
    for (const name of new Set(variablesIn(inputs))) {
      if (!known(name))
        problems.push(
          `step ${step.name}: {{ ${name} }} is not a parameter of the document, a step output, automation:EXECUTION_ID or a global: variable`,
        )
    }
  }
}

/**
 * Reads a document file, YAML or JSON (or the JSON `aws ssm get-document`
 * prints, whose `Content` is the document). `name` defaults to the file's
 * name without its extension.
 */
export const loadAutomationDocument = async (
  path: string,
  name?: string,
): Promise<AutomationDocument> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(`SSM document not found: ${path}`)
    throw new CliError(`cannot read SSM document ${path}: ${describeError(error)}`)
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
    if (isRecord(raw) && typeof raw.Content === 'string') {
      if (name === undefined && typeof raw.Name === 'string') name = raw.Name
      raw = parseYaml(raw.Content)
    }
  } catch (error) {
    throw new InputError(`invalid SSM document ${path}: not YAML or JSON (${describeError(error)})`)
  }
  return parseAutomationDocument(raw, name ?? basename(path).replace(/\.(ya?ml|json)$/i, ''), path)
}
