/**
 * SSM Parameter Store, the store of the AWS FIS workshop: the parameter the
 * middlewares read through `SSMProvider`, and its companions (the lease).
 *
 * @module
 */
import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import { CliError, describeError } from '@middy-chaos/experiment'
import {
  type ConfigStore,
  type HistoryEntry,
  StoreConflictError,
  type StoredValue,
  type WriteOptions,
} from '@middy-chaos/fis/local'

/** Options of {@link SsmStore}. */
export interface SsmStoreOptions {
  /** Endpoint URL (moto, LocalStack); defaults to `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL`. */
  endpoint?: string
  region?: string
  /** A client of your own; `endpoint` and `region` are then ignored. */
  client?: SSMClient
}

/** How a companion parameter is written: its type, and the KMS key of a SecureString. */
type CompanionType = { Type: 'String' } | { Type: 'SecureString'; KeyId?: string }

/** The key SSM encrypts a SecureString with when none is named. */
const DEFAULT_SSM_KEY = 'alias/aws/ssm'

/** SSM Parameter Store, the store of the AWS FIS workshop. */
export class SsmStore implements ConfigStore {
  public readonly kind = 'ssm'
  public readonly parameter: string
  public readonly description: string
  readonly #client: SSMClient
  readonly #where: string
  #companionTypeOf: Promise<CompanionType> | undefined

  public constructor(name: string, options: SsmStoreOptions = {}) {
    this.parameter = name
    this.description = `ssm:${name}`
    const endpoint =
      options.endpoint ?? process.env.AWS_ENDPOINT_URL_SSM ?? process.env.AWS_ENDPOINT_URL
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
    this.#where = endpoint ?? `region ${region ?? '(default)'}`
    this.#client =
      options.client ??
      new SSMClient({
        ...(endpoint ? { endpoint } : {}),
        ...(region ? { region } : {}),
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
      })
  }

  #fail(action: string, error: unknown): CliError {
    const name = (error as Error)?.name
    const reason =
      name === 'AccessDeniedException' || name === 'UnrecognizedClientException'
        ? `access denied (${describeError(error)})`
        : describeError(error)
    return new CliError(`cannot ${action} ${this.description} (SSM at ${this.#where}): ${reason}`)
  }

  public async read(): Promise<StoredValue | undefined> {
    try {
      const { Parameter } = await this.#client.send(
        new GetParameterCommand({ Name: this.parameter, WithDecryption: true }),
      )
      return {
        value: Parameter?.Value ?? '',
        version: Parameter?.Version ?? 0,
        ...(Parameter?.LastModifiedDate
          ? { modifiedAt: Parameter.LastModifiedDate.toISOString() }
          : {}),
      }
    } catch (error) {
      if (error instanceof ParameterNotFound || (error as Error)?.name === 'ParameterNotFound') {
        return undefined
      }
      throw this.#fail('read', error)
    }
  }

  public async write(value: string, options: WriteOptions = {}): Promise<StoredValue> {
    // SSM has no conditional put: check the version just before writing.
    const current = await this.read()
    if (options.expectedVersion !== undefined && current?.version !== options.expectedVersion) {
      throw new StoreConflictError(this.description, options.expectedVersion, current?.version)
    }
    try {
      const { Version } = await this.#client.send(
        new PutParameterCommand({
          Name: this.parameter,
          Value: value,
          Overwrite: true,
          // The type of an existing parameter is kept; a new one is a plain String.
          ...(current === undefined ? { Type: 'String' } : {}),
        }),
      )
      return { value, version: Version ?? (current?.version ?? 0) + 1 }
    } catch (error) {
      throw this.#fail('write', error)
    }
  }

  public async remove(): Promise<void> {
    try {
      await this.#client.send(new DeleteParameterCommand({ Name: this.parameter }))
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return
      throw this.#fail('delete', error)
    }
  }

  public async history(): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = []
    try {
      let NextToken: string | undefined
      do {
        const page = await this.#client.send(
          new GetParameterHistoryCommand({
            Name: this.parameter,
            WithDecryption: true,
            MaxResults: 50,
            NextToken,
          }),
        )
        for (const item of page.Parameters ?? []) {
          entries.push({
            value: item.Value ?? '',
            version: item.Version ?? 0,
            ...(item.LastModifiedDate ? { modifiedAt: item.LastModifiedDate.toISOString() } : {}),
            ...(item.Labels?.length ? { label: item.Labels.join(',') } : {}),
          })
        }
        NextToken = page.NextToken
      } while (NextToken)
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return []
      throw this.#fail('read the history of', error)
    }
    return entries.sort((a, b) => a.version - b.version)
  }

  /**
   * How companions are written: a `SecureString` when the parameter is one (a
   * lease records the pre-experiment value: it must not be less protected
   * than the parameter), encrypted with the parameter's own KMS key when
   * `DescribeParameters` tells it (otherwise SSM's default key for the
   * account); a `String` otherwise. Read once.
   */
  async #companionType(): Promise<CompanionType> {
    this.#companionTypeOf ??= this.#client
      .send(new GetParameterCommand({ Name: this.parameter, WithDecryption: false }))
      .then(
        async ({ Parameter }): Promise<CompanionType> =>
          Parameter?.Type === 'SecureString'
            ? { Type: 'SecureString', ...(await this.#keyId()) }
            : { Type: 'String' },
        (error: unknown) => {
          if ((error as Error)?.name === 'ParameterNotFound') return { Type: 'String' as const }
          this.#companionTypeOf = undefined
          throw this.#fail('read the type of', error)
        },
      )
    return this.#companionTypeOf
  }

  /** The parameter's own KMS key, unless it is SSM's default one or cannot be read. */
  async #keyId(): Promise<{ KeyId?: string }> {
    try {
      const { Parameters } = await this.#client.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [this.parameter] }],
        }),
      )
      const key = Parameters?.[0]?.KeyId
      return key === undefined || key === DEFAULT_SSM_KEY ? {} : { KeyId: key }
    } catch {
      // No ssm:DescribeParameters: still a SecureString, under the account's default key.
      return {}
    }
  }

  /**
   * `PutParameter` with `Overwrite: false` is SSM's only conditional write:
   * Parameter Store creates the name only if no version of it exists, and
   * answers `ParameterAlreadyExists` to every other caller, so of several
   * creators exactly one succeeds. A companion of a SecureString parameter is
   * a SecureString (under the parameter's own key when it can be read).
   */
  public async createCompanion(suffix: string, value: string): Promise<boolean> {
    const name = `${this.parameter}.${suffix}`
    const type = await this.#companionType()
    try {
      await this.#client.send(
        new PutParameterCommand({ Name: name, Value: value, ...type, Overwrite: false }),
      )
      return true
    } catch (error) {
      if ((error as Error)?.name === 'ParameterAlreadyExists') return false
      throw this.#fail(`create ssm:${name} for`, error)
    }
  }

  public async readCompanion(suffix: string): Promise<string | undefined> {
    const name = `${this.parameter}.${suffix}`
    try {
      const { Parameter } = await this.#client.send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      )
      return Parameter?.Value
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return undefined
      throw this.#fail(`read ssm:${name} for`, error)
    }
  }

  public async writeCompanion(suffix: string, value: string): Promise<void> {
    const name = `${this.parameter}.${suffix}`
    const type = await this.#companionType()
    try {
      await this.#client.send(
        new PutParameterCommand({ Name: name, Value: value, ...type, Overwrite: true }),
      )
    } catch (error) {
      throw this.#fail(`write ssm:${name} for`, error)
    }
  }

  public async removeCompanion(suffix: string): Promise<void> {
    const name = `${this.parameter}.${suffix}`
    try {
      await this.#client.send(new DeleteParameterCommand({ Name: name }))
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return
      throw this.#fail(`delete ssm:${name} for`, error)
    }
  }
}
