import { durationOption, numberOption, stringOption, urlOption } from '../args.js'
import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { formatProbeLine, formatSummary } from '../output.js'
import { Probe, summarise } from '../probe.js'
import { trapSignals } from '../signals.js'

/** `middy-chaos probe <url>`: the workshop's `test.sh`, with a summary. */
export const probeCommand: Command = {
  name: 'probe',
  positionals: 1,
  usage: ['probe <url> [--interval 1s] [--count n] [--duration 30s]'],
  help: () => `middy-chaos probe <url> [options]
  Prints "BODY - STATUS - SECONDS" per request, as the AWS FIS workshop's test.sh, and a summary on exit.
  --interval <duration>  time between requests (default 1s)
  --count <n>            stop after n requests
  --duration <duration>  stop after this long
  --timeout <duration>   per-request timeout (default 10s)`,
  options: () => ({
    interval: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    timeout: { type: 'string' },
  }),
  async run({ values, positionals }, { terminal }) {
    const target = positionals[0]
    if (!target)
      throw new UsageError('probe: which URL? (middy-chaos probe http://127.0.0.1:3000/)')
    urlOption(target)
    const count = numberOption(
      'count',
      stringOption(values, 'count'),
      Number.POSITIVE_INFINITY,
      (n) => Number.isInteger(n) && n > 0,
    )
    const durationMs = durationOption(
      'duration',
      stringOption(values, 'duration'),
      Number.POSITIVE_INFINITY,
    )
    let finish: () => void = () => {}
    const finished = new Promise<void>((resolveFinish) => {
      finish = resolveFinish
    })
    const probe = new Probe({
      url: target,
      intervalMs: durationOption('interval', stringOption(values, 'interval'), 1000),
      requestTimeoutMs: durationOption('timeout', stringOption(values, 'timeout'), 10_000),
      onSample: (sample) => {
        terminal.line(formatProbeLine(sample))
        if (probe.samples.length >= count) finish()
      },
    })
    const dispose = trapSignals(() => finish())
    const timer = Number.isFinite(durationMs) ? setTimeout(finish, durationMs) : undefined
    probe.start()
    await finished
    clearTimeout(timer)
    await probe.stop()
    dispose()
    terminal.line(`\n${formatSummary(summarise(probe.samples), 'Probe summary')}`)
    return 0
  },
}
