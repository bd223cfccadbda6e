/**
 * The built-in SSM store: a Powertools Parameters provider (`BaseProvider`,
 * the base of `SSMProvider`, as Powertools documents for a provider of one's
 * own) that reads one parameter with `GetParameter`.
 *
 * Why not `SSMProvider` itself: its module imports `@aws-sdk/client-ssm`
 * statically. A bundler keeps an external package's static import as a static
 * import at the top of the bundle, also when the module that has it is loaded
 * only through an `import()`; every ESM bundle of a chaos middleware would then
 * load the SSM client at its cold start (about 100 ms here), also when its
 * config comes from a provider of its own or a static `config`. Here the SDK is
 * loaded by an `import()` that bundlers leave as it is, only when this store
 * is used. Reads are those of `SSMProvider.get`: `decrypt` (or
 * `POWERTOOLS_PARAMETERS_SSM_DECRYPT`), `sdkOptions`, `transform`, errors as
 * `GetParameterError`.
 *
 * @module
 */
import { BaseProvider } from '@aws-lambda-powertools/parameters/base'
import type {
  GetParameterCommand,
  GetParameterCommandInput,
  SSMClient,
  SSMClientConfig,
} from '@aws-sdk/client-ssm'
import { isEnvFlagOn } from './time.js'
import type { ConfigProvider } from './types.js'

type GetParameter = typeof GetParameterCommand

type ReadOptions = { decrypt?: boolean; sdkOptions?: Partial<GetParameterCommandInput> }

/** `decrypt` as `SSMProvider` reads it: the option, the SDK option, then the environment. */
const decryptOf = (options: ReadOptions | undefined): boolean => {
  if (options?.decrypt !== undefined) return options.decrypt
  if (options?.sdkOptions?.WithDecryption !== undefined) return options.sdkOptions.WithDecryption
  return isEnvFlagOn('POWERTOOLS_PARAMETERS_SSM_DECRYPT')
}

class ChaosSSMStore extends BaseProvider {
  readonly #command: GetParameter

  constructor(client: SSMClient, command: GetParameter) {
    super({ awsSdkV3Client: client })
    this.#command = command
  }

  protected async _get(name: string, options?: ReadOptions): Promise<string | undefined> {
    const input = { ...options?.sdkOptions, Name: name, WithDecryption: decryptOf(options) }
    const result = await (this.client as SSMClient).send(new this.#command(input))
    return result.Parameter?.Value
  }

  protected async _getMultiple(): Promise<Record<string, unknown>> {
    throw new Error('the chaos SSM store reads one parameter at a time')
  }
}

/**
 * The store's provider, its SDK client made with `clientConfig`. The client
 * exists before the first read, so that the source's abort signal reaches it.
 */
export const createSSMStore = async (clientConfig: SSMClientConfig): Promise<ConfigProvider> => {
  const { SSMClient: Client, GetParameterCommand } = await import('@aws-sdk/client-ssm')
  return new ChaosSSMStore(new Client(clientConfig), GetParameterCommand) as ConfigProvider
}
