/**
 * The experiment template as the FIS API takes it: the input of
 * `aws fis create-experiment-template --cli-input-json file://…`, for teams
 * that create the runbook and the roles themselves.
 *
 * @module
 */
import { type FisExperiment, FisExperimentError } from './experiment.js'
import {
  buildExperimentTemplate,
  type ExperimentTemplateOptions,
  type ExperimentTemplateRefs,
} from './template.js'

/** What the template points at ({@link ExperimentTemplateRefs}), as plain strings. */
export interface FisJsonRefs extends ExperimentTemplateRefs {
  readonly documentArn: string
  readonly automationRoleArn: string
  readonly fisRoleArn: string
  readonly parameterName: string
  readonly alarmArns?: readonly string[]
  readonly logGroupArn: string
}

/** `CreateExperimentTemplate`'s input (the FIS API's camelCase). */
export interface FisExperimentTemplateInput {
  readonly description: string
  readonly roleArn: string
  readonly targets: Readonly<Record<string, never>>
  readonly actions: Readonly<
    Record<
      string,
      {
        readonly actionId: string
        readonly description?: string
        readonly parameters: Readonly<Record<string, string>>
        readonly startAfter?: readonly string[]
      }
    >
  >
  readonly stopConditions: readonly { readonly source: string; readonly value?: string }[]
  readonly logConfiguration: {
    readonly cloudWatchLogsConfiguration: { readonly logGroupArn: string }
    readonly logSchemaVersion: number
  }
  readonly experimentOptions: {
    readonly accountTargeting: string
    readonly emptyTargetResolutionMode: string
  }
  readonly tags: Readonly<Record<string, string>>
}

/** A CloudWatch Logs log group ARN, with or without the `:*` FIS wants. */
const LOG_GROUP_ARN = /^arn:[^:\s]+:logs:[^:\s]+:\d{12}:log-group:[^:*\s]+(:\*)?$/

/**
 * A log group ARN as FIS's experiment log takes it: ending in `:*` (the form
 * `GetAtt <LogGroup>.Arn` and `DescribeLogGroups` give), appended when
 * missing. Throws {@link FisExperimentError} for anything else.
 *
 * @example
 * ```ts
 * fisLogGroupArn('arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments')
 * // 'arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments:*'
 * ```
 */
export const fisLogGroupArn = (arn: string): string => {
  const match = LOG_GROUP_ARN.exec(arn)
  if (!match)
    throw new FisExperimentError(
      `log group ARN "${arn.slice(0, 200)}": FIS takes a CloudWatch Logs log group ARN ending in :* (arn:aws:logs:<region>:<account>:log-group:<name>:*)`,
    )
  return match[1] === undefined ? `${arn}:*` : arn
}

/**
 * The input of `aws fis create-experiment-template --cli-input-json`: the
 * same template as {@link buildExperimentTemplate}, with the ARNs given. A
 * log group ARN without its `:*` gets it ({@link fisLogGroupArn}).
 *
 * @example
 * ```ts
 * const input = buildFisJson(experiment, {
 *   documentArn: 'arn:aws:ssm:eu-west-1:123456789012:document/middy-chaos-workshop',
 *   automationRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-automation',
 *   fisRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-fis',
 *   parameterName: '/chaos/hello-world',
 *   logGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments:*',
 * })
 * ```
 */
export const buildFisJson = (
  experiment: FisExperiment,
  refs: FisJsonRefs,
  options: ExperimentTemplateOptions = {},
): FisExperimentTemplateInput => {
  const template = buildExperimentTemplate(
    experiment,
    { ...refs, logGroupArn: fisLogGroupArn(refs.logGroupArn) },
    options,
  )
  const text = (value: unknown): string => value as string
  return {
    description: template.Description,
    roleArn: text(template.RoleArn),
    targets: {},
    actions: Object.fromEntries(
      Object.entries(template.Actions).map(([name, action]) => [
        name,
        {
          actionId: action.ActionId,
          ...(action.Description === undefined ? {} : { description: action.Description }),
          parameters: Object.fromEntries(
            Object.entries(action.Parameters).map(([key, value]) => [key, text(value)]),
          ),
          ...(action.StartAfter === undefined ? {} : { startAfter: action.StartAfter }),
        },
      ]),
    ),
    stopConditions: template.StopConditions.map((condition) => ({
      source: condition.Source,
      ...(condition.Value === undefined ? {} : { value: text(condition.Value) }),
    })),
    logConfiguration: {
      cloudWatchLogsConfiguration: {
        logGroupArn: text(template.LogConfiguration.CloudWatchLogsConfiguration.LogGroupArn),
      },
      logSchemaVersion: template.LogConfiguration.LogSchemaVersion,
    },
    experimentOptions: {
      accountTargeting: template.ExperimentOptions.AccountTargeting,
      emptyTargetResolutionMode: template.ExperimentOptions.EmptyTargetResolutionMode,
    },
    tags: template.Tags,
  }
}
