/**
 * The CloudWatch alarms of an experiment's stop conditions, polled while it
 * runs (the thresholds on the probe's measurements are judged by
 * `ProbeWatch` of `@middy-chaos/experiment`).
 *
 * @module
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import { CliError, describeError, InputError } from '@middy-chaos/experiment'

/** Default time between two `DescribeAlarms` calls. */
export const DEFAULT_ALARM_INTERVAL_MS = 5_000

/** Options of {@link AlarmWatch}. */
export interface AlarmWatchOptions {
  alarms: readonly string[]
  intervalMs?: number
  region?: string
  /** CloudWatch endpoint (moto); defaults to `AWS_ENDPOINT_URL_CLOUDWATCH` / `AWS_ENDPOINT_URL`. */
  endpoint?: string
  client?: CloudWatchClient
}

/**
 * Polls CloudWatch `DescribeAlarms` for the named alarms; when one is in
 * `ALARM`, calls `onTrip` once. Alarms that cannot be read three polls in a
 * row stop the experiment too: a stop condition that cannot be checked does
 * not protect anything.
 */
export class AlarmWatch {
  readonly #alarms: readonly string[]
  readonly #intervalMs: number
  readonly #client: CloudWatchClient
  #timer: NodeJS.Timeout | undefined
  #failures = 0
  #tripped = false

  public constructor(options: AlarmWatchOptions) {
    this.#alarms = options.alarms
    this.#intervalMs = options.intervalMs ?? DEFAULT_ALARM_INTERVAL_MS
    const endpoint =
      options.endpoint ?? process.env.AWS_ENDPOINT_URL_CLOUDWATCH ?? process.env.AWS_ENDPOINT_URL
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
    this.#client =
      options.client ??
      new CloudWatchClient({
        ...(endpoint ? { endpoint } : {}),
        ...(region ? { region } : {}),
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
      })
  }

  /** The alarms' states; throws when one of them does not exist. */
  public async states(): Promise<Map<string, string>> {
    const states = new Map<string, string>()
    let NextToken: string | undefined
    do {
      const page = await this.#client.send(
        new DescribeAlarmsCommand({ AlarmNames: [...this.#alarms], NextToken }),
      )
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) states.set(alarm.AlarmName, alarm.StateValue ?? 'UNKNOWN')
      }
      NextToken = page.NextToken
    } while (NextToken)
    const missing = this.#alarms.filter((name) => !states.has(name))
    if (missing.length > 0) {
      throw new InputError(
        `stop condition: no CloudWatch alarm named ${missing.map((n) => `"${n}"`).join(', ')}`,
      )
    }
    return states
  }

  /**
   * Checks every alarm exists and none is in `ALARM` (else throws: the
   * experiment does not start), then polls until {@link AlarmWatch.close}.
   */
  public async start(onTrip: (reason: string) => void): Promise<void> {
    let states: Map<string, string>
    try {
      states = await this.states()
    } catch (error) {
      if (error instanceof CliError) throw error
      throw new CliError(`stop condition: cannot read CloudWatch alarms: ${describeError(error)}`)
    }
    const firing = [...states].filter(([, state]) => state === 'ALARM').map(([name]) => name)
    if (firing.length > 0) {
      throw new CliError(
        `stop condition: alarm ${firing.join(', ')} is in ALARM already; the experiment does not start`,
        { exitCode: 4 },
      )
    }
    const poll = async () => {
      if (this.#tripped) return
      try {
        const now = await this.states()
        this.#failures = 0
        for (const [name, state] of now) {
          if (state === 'ALARM') {
            this.#tripped = true
            onTrip(`alarm ${name} is in ALARM`)
            return
          }
        }
      } catch (error) {
        this.#failures++
        if (this.#failures >= 3) {
          this.#tripped = true
          onTrip(`alarms could not be read 3 times in a row (${describeError(error)})`)
          return
        }
      }
      if (!this.#tripped) this.#timer = setTimeout(poll, this.#intervalMs)
    }
    this.#timer = setTimeout(poll, this.#intervalMs)
  }

  public close(): void {
    this.#tripped = true
    clearTimeout(this.#timer)
    this.#client.destroy()
  }
}
