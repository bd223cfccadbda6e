/**
 * The AWS FIS experiment template: one action, `RunExperiment`
 * (`aws:ssm:start-automation-execution` of the runbook), and for the
 * console's timeline one `aws:fis:wait` per step that waits, chained with
 * `startAfter`, in parallel with it. Stopping the experiment (by hand, a
 * stop-condition alarm, or `maxDuration`) cancels the automation, whose
 * running step's `onCancel` is the restore.
 *
 * @module
 */
import {
  checkFisExperiment,
  type FisExperiment,
  FisExperimentError,
  holdSeconds,
  isoMinutes,
  MAX_ACTION_PARAMETER_LENGTH,
  MAX_EXPERIMENT_SECONDS,
  stepName,
  totalSeconds,
} from './experiment.js'
import type { TemplateValue } from './iam.js'
import { checkLeaseTtl, DEFAULT_LEASE_TTL_SECONDS } from './runbook.js'

/** What the experiment template points at. Strings, CloudFormation intrinsics or CDK tokens. */
export interface ExperimentTemplateRefs {
  /** Full ARN of the runbook (`arn:…:ssm:<region>:<account>:document/<name>`). */
  readonly documentArn: TemplateValue
  /** The role the automation runs with. */
  readonly automationRoleArn: TemplateValue
  /** The role FIS runs the experiment with. */
  readonly fisRoleArn: TemplateValue
  /** The chaos config parameter's name. */
  readonly parameterName: TemplateValue
  /** CloudWatch alarms that stop the experiment. */
  readonly alarmArns?: readonly TemplateValue[]
  /** The log group of the experiment log. */
  readonly logGroupArn: TemplateValue
}

/** Options of {@link buildExperimentTemplate}. */
export interface ExperimentTemplateOptions {
  /** `LeaseTtlSeconds` given to the runbook (default 60). */
  readonly leaseTtlSeconds?: number
}

/** One FIS action, CloudFormation-cased. */
export interface ExperimentTemplateAction {
  readonly ActionId: string
  readonly Description?: string
  readonly Parameters: Readonly<Record<string, TemplateValue>>
  readonly StartAfter?: readonly string[]
}

/** `AWS::FIS::ExperimentTemplate` properties. */
export interface ExperimentTemplateProperties {
  readonly Description: string
  readonly RoleArn: TemplateValue
  readonly Targets: Readonly<Record<string, never>>
  readonly Actions: Readonly<Record<string, ExperimentTemplateAction>>
  readonly StopConditions: readonly { readonly Source: string; readonly Value?: TemplateValue }[]
  readonly LogConfiguration: {
    readonly CloudWatchLogsConfiguration: { readonly LogGroupArn: TemplateValue }
    readonly LogSchemaVersion: 2
  }
  readonly ExperimentOptions: {
    readonly AccountTargeting: 'single-account'
    readonly EmptyTargetResolutionMode: 'fail'
  }
  readonly Tags: Readonly<Record<string, string>>
}

/** The action that runs the runbook. */
export const RUN_ACTION = 'RunExperiment'

/** Time FIS gives the automation beyond the experiment's waits: start, step changes, restore. */
export const MAX_DURATION_MARGIN_SECONDS = 300

/**
 * A JSON object as a string value: `JSON.stringify` when every value is a
 * string (CDK tokens included), `Fn::Sub` with a variable per intrinsic
 * otherwise.
 */
export const jsonString = (value: Readonly<Record<string, TemplateValue>>): TemplateValue => {
  const entries = Object.entries(value)
  if (entries.every(([, v]) => typeof v === 'string')) return JSON.stringify(value)
  const variables: Record<string, TemplateValue> = {}
  const body = entries.map(([key, v]) => {
    if (typeof v !== 'string') {
      variables[key] = v
      return `${JSON.stringify(key)}:"\${${key}}"`
    }
    return `${JSON.stringify(key)}:${JSON.stringify(v).replaceAll('${', '${!')}`
  })
  return { 'Fn::Sub': [`{${body.join(',')}}`, variables] }
}

/** One `aws:fis:wait` of the console's timeline: a step that holds, its hold and its FIS duration. */
export interface TimelineWait {
  /** The action's name, the runbook step's: `S02_Wait1`. */
  readonly name: string
  /** The step's hold, whole seconds. */
  readonly seconds: number
  /** The FIS duration: whole minutes, rounded up, at least `PT1M`. */
  readonly duration: string
}

/**
 * The `aws:fis:wait` actions of the console's timeline, one per step that
 * holds, in order; none when the waits, rounded up to whole minutes, would not
 * fit in FIS's 12 hours (the automation still holds them).
 */
export const timelineWaits = (experiment: FisExperiment): TimelineWait[] => {
  const waits = experiment.steps.flatMap((step, index) =>
    holdSeconds(step) > 0
      ? [
          {
            name: stepName(index, step.name),
            seconds: holdSeconds(step),
            duration: isoMinutes(holdSeconds(step)),
          },
        ]
      : [],
  )
  return minutes(waits) * 60 <= MAX_EXPERIMENT_SECONDS ? waits : []
}

const minutes = (waits: readonly TimelineWait[]): number =>
  waits.reduce((sum, wait) => sum + Number(wait.duration.slice(2, -1)), 0)

/**
 * What the FIS experiment's length owes to its timeline: FIS waits are whole
 * minutes, at least `PT1M`, so holds that are not whole minutes (4 s holds for
 * a first try) make the FIS experiment last longer than its automation holds.
 * Undefined when every hold is whole minutes. The CLI's export prints it and
 * the CDK construct adds it as a warning.
 *
 * @example
 * ```ts
 * timelineNote(experiment)
 * // 'FIS waits are whole minutes, at least PT1M: the holds of S02_Wait1 (4 s), … are waits of PT1M
 * //  on the FIS timeline, so the FIS experiment lasts at least 3 min while its automation holds 12 s'
 * ```
 */
export const timelineNote = (experiment: FisExperiment): string | undefined => {
  const waits = timelineWaits(experiment)
  const rounded = waits.filter((wait) => wait.seconds % 60 !== 0)
  if (rounded.length === 0) return undefined
  const held = waits.reduce((sum, wait) => sum + wait.seconds, 0)
  const shown = rounded
    .slice(0, 5)
    .map((wait) => `${wait.name} (${wait.seconds} s, ${wait.duration})`)
    .join(', ')
  const more = rounded.length > 5 ? ` and ${rounded.length - 5} more` : ''
  return `FIS waits are whole minutes, at least PT1M: ${rounded.length === 1 ? 'the hold of' : 'the holds of'} ${shown}${more} ${rounded.length === 1 ? 'is a wait' : 'are waits'} of whole minutes on the FIS timeline, so the FIS experiment lasts at least ${minutes(waits)} min while its automation holds ${held} s (the automation, not the timeline, applies the faults)`
}

/**
 * The properties of the `AWS::FIS::ExperimentTemplate` that runs an
 * experiment's runbook (CloudFormation casing; `buildFisJson` gives the FIS
 * API's). `Targets` is empty: neither action takes targets.
 *
 * @example
 * ```ts
 * new CfnResource(this, 'Template', {
 *   type: 'AWS::FIS::ExperimentTemplate',
 *   properties: buildExperimentTemplate(experiment, {
 *     documentArn, automationRoleArn: role.roleArn, fisRoleArn: fisRole.roleArn,
 *     parameterName: '/chaos/hello', alarmArns: [alarm.alarmArn], logGroupArn: logs.logGroupArn,
 *   }),
 * })
 * ```
 */
export const buildExperimentTemplate = (
  experiment: FisExperiment,
  refs: ExperimentTemplateRefs,
  options: ExperimentTemplateOptions = {},
): ExperimentTemplateProperties => {
  checkFisExperiment(experiment)
  const ttl = checkLeaseTtl(options.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS)
  const total = totalSeconds(experiment)
  const documentParameters = jsonString({
    AutomationAssumeRole: refs.automationRoleArn,
    ParameterName: refs.parameterName,
    LeaseTtlSeconds: String(ttl),
  })
  if (
    typeof documentParameters === 'string' &&
    documentParameters.length > MAX_ACTION_PARAMETER_LENGTH
  )
    throw new FisExperimentError(
      `documentParameters would be ${documentParameters.length} characters, past FIS's ${MAX_ACTION_PARAMETER_LENGTH}: use a shorter parameter name`,
    )
  const actions: Record<string, ExperimentTemplateAction> = {
    [RUN_ACTION]: {
      ActionId: 'aws:ssm:start-automation-execution',
      Description:
        'Runs every step in one SSM Automation; stopping the experiment cancels it, and the parameter is restored',
      Parameters: {
        documentArn: refs.documentArn,
        documentParameters,
        maxDuration: isoMinutes(total + MAX_DURATION_MARGIN_SECONDS),
      },
    },
  }
  // Timeline only: the automation does the holding.
  const waits = timelineWaits(experiment)
  waits.forEach((wait, index) => {
    const previous = waits[index - 1]
    actions[wait.name] = {
      ActionId: 'aws:fis:wait',
      Description: `Timeline only: step ${wait.name} holds ${wait.seconds} s in ${RUN_ACTION}`,
      Parameters: { duration: wait.duration },
      ...(previous === undefined ? {} : { StartAfter: [previous.name] }),
    }
  })
  const alarms = refs.alarmArns ?? []
  if (alarms.length === 0 && (experiment.alarms ?? []).length > 0)
    throw new FisExperimentError(
      `experiment ${experiment.name} stops on alarms ${experiment.alarms?.join(', ')}: give their ARNs (alarmArns)`,
    )
  return {
    Description: (experiment.description ?? `middy-chaos experiment ${experiment.name}`).slice(
      0,
      512,
    ),
    RoleArn: refs.fisRoleArn,
    Targets: {},
    Actions: actions,
    StopConditions:
      alarms.length > 0
        ? alarms.map((arn) => ({ Source: 'aws:cloudwatch:alarm', Value: arn }))
        : [{ Source: 'none' }],
    LogConfiguration: {
      CloudWatchLogsConfiguration: { LogGroupArn: refs.logGroupArn },
      LogSchemaVersion: 2,
    },
    ExperimentOptions: { AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' },
    Tags: { Name: experiment.name.slice(0, 256) },
  }
}
