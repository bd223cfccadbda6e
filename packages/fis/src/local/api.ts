/**
 * `aws:executeAwsApi` with `Service: ssm`, played against the store: the
 * parameter calls answer as SSM answers them (the response shapes, and the
 * errors `ParameterNotFound` / `ParameterAlreadyExists`), so outputs like
 * `$.Parameter.Value` select what they would select on AWS.
 *
 * @module
 */
import { CliError } from '@middy-chaos/experiment'
import type { SsmApi } from './document.js'
import type { ConfigStore } from './store.js'

/** An error SSM would answer, by its name. */
export class SsmApiError extends CliError {
  public constructor(name: string, message: string) {
    super(`${name}: ${message}`)
    this.name = name
  }
}

/** What an SSM call runs with. */
export interface SsmCallContext {
  readonly store: ConfigStore
  /** The parameter name the documents use, mapped onto the store. */
  readonly parameterName: string
  /** History label of a write. */
  readonly label: string
  /** Called after each write to the parameter (`undefined`: deleted). */
  readonly onWrite?: (value: string | undefined, version?: number) => void
}

/** Calls one SSM parameter API against the store; resolves with SSM's response. */
export const callSsm = async (
  api: SsmApi,
  inputs: Readonly<Record<string, unknown>>,
  context: SsmCallContext,
): Promise<Record<string, unknown>> => {
  const { store, parameterName } = context
  const name = inputs.Name
  if (name !== parameterName)
    throw new CliError(
      `ssm ${api} of ${JSON.stringify(name)}: the player plays one parameter, ${parameterName}`,
    )
  const notFound = () => new SsmApiError('ParameterNotFound', `parameter ${name} not found`)
  switch (api) {
    case 'GetParameter': {
      const current = await store.read()
      if (current === undefined) throw notFound()
      return {
        Parameter: {
          Name: name,
          Type: 'String',
          Value: current.value,
          Version: current.version,
          ...(current.modifiedAt ? { LastModifiedDate: current.modifiedAt } : {}),
          DataType: 'text',
        },
      }
    }
    case 'PutParameter': {
      const value = inputs.Value
      if (typeof value !== 'string')
        throw new SsmApiError('ValidationException', 'Value must be a string')
      const overwrite = inputs.Overwrite === true || inputs.Overwrite === 'true'
      if (!overwrite && (await store.read()) !== undefined)
        throw new SsmApiError(
          'ParameterAlreadyExists',
          `the parameter ${name} already exists; to overwrite it, set Overwrite to true`,
        )
      const written = await store.write(value, { label: context.label })
      context.onWrite?.(value, written.version)
      return { Version: written.version, Tier: 'Standard' }
    }
    case 'DeleteParameter': {
      if ((await store.read()) === undefined) throw notFound()
      await store.remove({ label: context.label })
      context.onWrite?.(undefined)
      return {}
    }
  }
}
