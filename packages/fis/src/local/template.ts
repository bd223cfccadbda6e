/**
 * An AWS FIS experiment template as `aws fis get-experiment-template` prints
 * it (or the input of `aws fis create-experiment-template --cli-input-json`),
 * read and checked for what the local player can play: actions
 * `aws:ssm:start-automation-execution` and `aws:fis:wait`, their `startAfter`
 * order, and stop conditions `none` or `aws:cloudwatch:alarm`. Everything
 * else is refused by name before anything runs.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { isRecord } from '@middy-chaos/core'
import { CliError, describeError, InputError, MAX_EXPERIMENT_MS } from '@middy-chaos/experiment'

/** The FIS action that starts an SSM Automation and waits for it. */
export const AUTOMATION_ACTION = 'aws:ssm:start-automation-execution'
/** The FIS action that waits. */
export const WAIT_ACTION = 'aws:fis:wait'

/** An SSM document ARN, split: `arn:aws:ssm:us-east-1:123456789012:document/Name`. */
export interface DocumentArn {
  readonly arn: string
  readonly partition: string
  readonly region: string
  /** Empty for documents owned by AWS (`arn:aws:ssm:us-east-1::document/AWS-...`). */
  readonly account: string
  readonly name: string
}

/** `aws:ssm:start-automation-execution`. */
export interface AutomationAction {
  readonly kind: 'automation'
  readonly name: string
  readonly actionId: typeof AUTOMATION_ACTION
  readonly startAfter: readonly string[]
  readonly document: DocumentArn
  /** `documentParameters`, parsed: each value a string or a list of strings. */
  readonly documentParameters: Readonly<Record<string, unknown>>
  /** `maxDuration`, ms: FIS cancels the automation when it runs longer. */
  readonly maxDurationMs: number
  readonly maxDuration: string
}

/** `aws:fis:wait`. */
export interface WaitAction {
  readonly kind: 'wait'
  readonly name: string
  readonly actionId: typeof WAIT_ACTION
  readonly startAfter: readonly string[]
  readonly durationMs: number
  readonly duration: string
}

export type FisAction = AutomationAction | WaitAction

/** A stop condition: `none`, or a CloudWatch alarm (its name taken from its ARN). */
export type FisStopCondition =
  | { source: 'none' }
  | { source: 'aws:cloudwatch:alarm'; alarm: string }

/** An experiment template, checked. */
export interface FisTemplate {
  /** The `Name` tag, else the id, else the file name. */
  readonly name: string
  readonly description?: string
  /** Actions in the template's order. */
  readonly actions: readonly FisAction[]
  readonly stopConditions: readonly FisStopCondition[]
}

const TEMPLATE_FIELDS = new Set([
  'id',
  'arn',
  'clientToken',
  'description',
  'targets',
  'actions',
  'stopConditions',
  'creationTime',
  'lastUpdateTime',
  'roleArn',
  'tags',
  'logConfiguration',
  'experimentOptions',
  'targetAccountConfigurationsCount',
  'experimentReportConfiguration',
])
const ACTION_FIELDS = new Set(['actionId', 'description', 'parameters', 'targets', 'startAfter'])
const ACTION_PARAMETERS: Record<string, { required: string[]; optional: string[] }> = {
  [AUTOMATION_ACTION]: {
    required: ['documentArn', 'maxDuration'],
    optional: ['documentParameters'],
  },
  [WAIT_ACTION]: { required: ['duration'], optional: [] },
}

/**
 * An ISO 8601 duration as FIS and SSM write them (`PT1M`, `PT1H30M`, `PT90S`,
 * `P1DT2H`), in ms; `undefined` for anything else.
 */
export const parseIsoDuration = (text: unknown): number | undefined => {
  if (typeof text !== 'string') return undefined
  const match =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text.trim(),
    )
  if (!match || /^PT?$/.test(text.trim())) return undefined
  const [, d = '0', h = '0', m = '0', s = '0'] = match
  return Math.round(
    Number(d) * 86_400_000 + Number(h) * 3_600_000 + Number(m) * 60_000 + Number(s) * 1000,
  )
}

/** Splits an SSM document ARN; `undefined` when it is not one. */
export const parseDocumentArn = (arn: string): DocumentArn | undefined => {
  const match = /^arn:([a-z-]+):ssm:([a-z0-9-]*):(\d*):document\/([A-Za-z0-9_.-]{3,128})$/.exec(arn)
  if (!match) return undefined
  const [, partition = '', region = '', account = '', name = ''] = match
  return { arn, partition, region, account, name }
}

/**
 * Reads `documentParameters`: a JSON object. FIS accepts, and the AWS FIS
 * workshop writes, line breaks inside its string values (a JSON config written
 * across lines inside a YAML folded scalar): they are kept, as FIS keeps them.
 */
export const parseDocumentParameters = (text: string): Record<string, unknown> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    try {
      value = JSON.parse(escapeControlsInStrings(text))
    } catch {
      throw new Error(`not JSON (${describeError(error)})`)
    }
  }
  if (!isRecord(value)) throw new Error('must be a JSON object')
  return value
}

/** Escapes raw line breaks and tabs that stand inside JSON string literals. */
const escapeControlsInStrings = (text: string): string => {
  let out = ''
  let inString = false
  let escaped = false
  for (const char of text) {
    if (inString && !escaped && char < ' ') {
      out += char === '\n' ? '\\n' : char === '\r' ? '\\r' : char === '\t' ? '\\t' : ''
      continue
    }
    out += char
    if (escaped) escaped = false
    else if (char === '\\') escaped = inString
    else if (char === '"') inString = !inString
  }
  return out
}

const CLOUDFORMATION_HINT =
  'this looks like CloudFormation properties (Actions, ActionId): give the JSON that "aws fis get-experiment-template --id <id>" prints'

/**
 * Checks an experiment template. Every problem is named (`actions.S01.actionId:
 * aws:ec2:stop-instances is not played locally`); the error lists them all.
 */
export const parseFisTemplate = (raw: unknown, source = 'template'): FisTemplate => {
  const root = isRecord(raw) && isRecord(raw.experimentTemplate) ? raw.experimentTemplate : raw
  if (!isRecord(root))
    throw new InputError(`invalid FIS template ${source}: must be a JSON object with "actions"`)
  if (root.Actions !== undefined || root.ExperimentTemplate !== undefined)
    throw new InputError(`invalid FIS template ${source}: ${CLOUDFORMATION_HINT}`)
  const problems: string[] = []
  for (const key of Object.keys(root)) {
    if (!TEMPLATE_FIELDS.has(key)) problems.push(`${key}: unknown field`)
  }
  if (isRecord(root.targets) && Object.keys(root.targets).length > 0)
    problems.push(
      `targets: ${Object.keys(root.targets).join(', ')}: targets (EC2, ECS, ...) are not played locally; only actions without targets are`,
    )
  const actions: FisAction[] = []
  if (!isRecord(root.actions) || Object.keys(root.actions).length === 0) {
    problems.push('actions: must be an object with at least one action')
  } else {
    for (const [name, action] of Object.entries(root.actions)) {
      const parsed = parseAction(name, action, problems)
      if (parsed) actions.push(parsed)
    }
    checkOrder(actions, problems)
  }
  const stopConditions = parseStopConditions(root.stopConditions, problems)
  if (problems.length > 0)
    throw new InputError(`cannot play FIS template ${source}: ${problems.join('; ')}`)
  const tags = isRecord(root.tags) ? root.tags : {}
  const name =
    typeof tags.Name === 'string' && tags.Name
      ? tags.Name
      : typeof root.id === 'string' && root.id
        ? root.id
        : basename(source).replace(/\.json$/i, '')
  return {
    name,
    ...(typeof root.description === 'string' ? { description: root.description } : {}),
    actions,
    stopConditions,
  }
}

const parseAction = (name: string, raw: unknown, problems: string[]): FisAction | undefined => {
  const at = `actions.${name}`
  if (!isRecord(raw)) {
    problems.push(`${at}: must be an object with "actionId"`)
    return undefined
  }
  for (const key of Object.keys(raw)) {
    if (!ACTION_FIELDS.has(key)) problems.push(`${at}.${key}: unknown field`)
  }
  const actionId = raw.actionId
  const spec = typeof actionId === 'string' ? ACTION_PARAMETERS[actionId] : undefined
  if (typeof actionId !== 'string' || spec === undefined) {
    problems.push(
      `${at}.actionId: ${typeof actionId === 'string' ? actionId : JSON.stringify(actionId)} is not played locally (the player plays ${AUTOMATION_ACTION} and ${WAIT_ACTION})`,
    )
    return undefined
  }
  if (isRecord(raw.targets) && Object.keys(raw.targets).length > 0)
    problems.push(`${at}.targets: ${actionId} takes no targets`)
  let startAfter: string[] = []
  if (raw.startAfter !== undefined) {
    if (!Array.isArray(raw.startAfter) || !raw.startAfter.every((n) => typeof n === 'string'))
      problems.push(`${at}.startAfter: must be a list of action names`)
    else startAfter = raw.startAfter
  }
  const parameters = isRecord(raw.parameters) ? raw.parameters : {}
  if (raw.parameters !== undefined && !isRecord(raw.parameters))
    problems.push(`${at}.parameters: must be an object`)
  for (const key of Object.keys(parameters)) {
    if (!spec.required.includes(key) && !spec.optional.includes(key))
      problems.push(`${at}.parameters.${key}: unknown parameter of ${actionId}`)
    else if (typeof parameters[key] !== 'string')
      problems.push(`${at}.parameters.${key}: must be a string`)
  }
  for (const key of spec.required) {
    if (parameters[key] === undefined) problems.push(`${at}.parameters.${key}: missing`)
  }
  const duration = (key: string): number | undefined => {
    const text = parameters[key]
    if (typeof text !== 'string') return undefined
    const ms = parseIsoDuration(text)
    if (ms === undefined)
      problems.push(`${at}.parameters.${key}: "${text}" is not an ISO 8601 duration (PT1M)`)
    else if (ms > MAX_EXPERIMENT_MS)
      problems.push(`${at}.parameters.${key}: ${text} is longer than 12 hours, FIS's maximum`)
    return ms
  }
  if (actionId === WAIT_ACTION) {
    const durationMs = duration('duration')
    if (durationMs === undefined) return undefined
    return {
      kind: 'wait',
      name,
      actionId: WAIT_ACTION,
      startAfter,
      durationMs,
      duration: String(parameters.duration),
    }
  }
  const maxDurationMs = duration('maxDuration')
  const arnText = parameters.documentArn
  const document = typeof arnText === 'string' ? parseDocumentArn(arnText) : undefined
  if (typeof arnText === 'string' && document === undefined)
    problems.push(
      `${at}.parameters.documentArn: "${arnText}" is not an SSM document ARN (arn:aws:ssm:<region>:<account>:document/<name>)`,
    )
  let documentParameters: Record<string, unknown> = {}
  if (typeof parameters.documentParameters === 'string') {
    try {
      documentParameters = parseDocumentParameters(parameters.documentParameters)
    } catch (error) {
      problems.push(`${at}.parameters.documentParameters: ${describeError(error)}`)
    }
  }
  if (maxDurationMs === undefined || document === undefined) return undefined
  return {
    kind: 'automation',
    name,
    actionId: AUTOMATION_ACTION,
    startAfter,
    document,
    documentParameters,
    maxDurationMs,
    maxDuration: String(parameters.maxDuration),
  }
}

/** Every `startAfter` names an action, and no action waits for itself through others. */
const checkOrder = (actions: readonly FisAction[], problems: string[]): void => {
  const byName = new Map(actions.map((action) => [action.name, action]))
  for (const action of actions) {
    for (const before of action.startAfter) {
      if (!byName.has(before))
        problems.push(`actions.${action.name}.startAfter: no action named "${before}"`)
    }
  }
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name]
    state.set(name, 'visiting')
    for (const before of byName.get(name)?.startAfter ?? []) {
      if (!byName.has(before)) continue
      const cycle = visit(before, [...path, name])
      if (cycle) return cycle
    }
    state.set(name, 'done')
    return undefined
  }
  for (const action of actions) {
    const cycle = visit(action.name, [])
    if (cycle) {
      problems.push(
        `actions: startAfter makes a cycle (${cycle.join(' waits for ')}): these actions would never start`,
      )
      return
    }
  }
}

const parseStopConditions = (raw: unknown, problems: string[]): FisStopCondition[] => {
  if (raw === undefined) return [{ source: 'none' }]
  if (!Array.isArray(raw)) {
    problems.push('stopConditions: must be a list')
    return []
  }
  const conditions: FisStopCondition[] = []
  raw.forEach((entry: unknown, index) => {
    const at = `stopConditions[${index}]`
    const source = isRecord(entry) ? entry.source : undefined
    if (source === 'none') conditions.push({ source: 'none' })
    else if (source === 'aws:cloudwatch:alarm' && isRecord(entry)) {
      const alarm =
        typeof entry.value === 'string'
          ? /^arn:[a-z-]+:cloudwatch:[a-z0-9-]+:\d+:alarm:(.+)$/.exec(entry.value)?.[1]
          : undefined
      if (alarm === undefined)
        problems.push(
          `${at}.value: must be a CloudWatch alarm ARN (arn:aws:cloudwatch:…:alarm:<name>)`,
        )
      else conditions.push({ source: 'aws:cloudwatch:alarm', alarm })
    } else
      problems.push(
        `${at}.source: ${JSON.stringify(source)} is not played locally (none or aws:cloudwatch:alarm)`,
      )
  })
  return conditions
}

/** Reads and checks an experiment template file (JSON). */
export const loadFisTemplate = async (path: string): Promise<FisTemplate> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(`FIS template not found: ${path}`)
    throw new CliError(`cannot read FIS template ${path}: ${describeError(error)}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new InputError(
      `invalid FIS template ${path}: not JSON (${describeError(error)}); give the JSON that "aws fis get-experiment-template --id <id>" prints`,
    )
  }
  return parseFisTemplate(raw, path)
}
