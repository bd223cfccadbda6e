import {
  EXPECTATION_FAILED_EXIT_CODE,
  failedCount,
  type JudgedScope,
  judge,
  judgedSamples,
  readExpectOption,
  UsageError,
} from '@middy-chaos/experiment'
import {
  countLeftOut,
  describeExpectations,
  formatProbeLine,
  formatSummary,
  formatVerdicts,
  summaryTitle,
} from '../report/output.js'
import { reportFormat, resultsPath, writeReport, writeResults } from '../report/report.js'
import { PhaseTracker, Probe, summarise } from '../runner/probe.js'
import { describeInterruption, type Interruption, trapSignals } from '../runner/signals.js'
import { durationOption, intervalOption, numberOption, stringOption, urlOption } from './args.js'
import type { Command } from './command.js'

/** `middy-chaos probe <url>`: the workshop's `test.sh`, with a summary. */
export const probeCommand: Command = {
  name: 'probe',
  positionals: 1,
  usage: [
    'probe <url> [--interval 1s] [--count n] [--duration 30s] [--expect "p95<500ms"] [--report report.html]',
  ],
  help: () => `middy-chaos probe <url> [options]
  Prints "BODY - STATUS - SECONDS" per request, as the AWS FIS workshop's test.sh, and a summary on exit.
  --interval <duration>  time between the starts of two requests (default 1s; 10ms to 1h)
  --count <n>            stop after n requests
  --duration <duration>  stop after this long
  --timeout <duration>   per-request timeout (default 10s)
  --expect <expectation> judge every request at the end: "2xx>=99%", "p95<500ms", "errors==0";
                         repeatable; exit code 6 when one fails
  --report <file>        write the report: .html (a timeline of every request and the table) or .json
  --results <file.jsonl> write the raw measurements, one JSON object per request`,
  options: () => ({
    interval: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    timeout: { type: 'string' },
    expect: { type: 'string', multiple: true },
    report: { type: 'string' },
    results: { type: 'string' },
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
    const expect = (Array.isArray(values.expect) ? values.expect : []).map(readExpectOption)
    const reportPath = stringOption(values, 'report')
    if (reportPath !== undefined) reportFormat(reportPath)
    const results = stringOption(values, 'results')
    if (results !== undefined) resultsPath(results)
    const intervalMs = intervalOption(values, 1000)
    let finish: () => void = () => {}
    const finished = new Promise<void>((resolveFinish) => {
      finish = resolveFinish
    })
    const origin = Date.now()
    const tracker = new PhaseTracker('(all)', '', origin)
    const probe = new Probe({
      url: target,
      intervalMs,
      tracker,
      requestTimeoutMs: durationOption('timeout', stringOption(values, 'timeout'), 10_000),
      onSample: (sample) => {
        terminal.line(formatProbeLine(sample))
        if (probe.samples.length >= count) finish()
      },
    })
    let signal: Interruption | undefined
    // A signal, or an output that can no longer be written (`| head`), ends it as Ctrl-C does.
    const dispose = trapSignals(
      (received) => {
        signal ??= received
        finish()
      },
      { terminal },
    )
    const timer = Number.isFinite(durationMs) ? setTimeout(finish, durationMs) : undefined
    probe.start()
    await finished
    clearTimeout(timer)
    // The request in flight is cut off at once (recorded as `stopped`): the
    // summary comes when asked for, whatever the service does.
    await probe.stop(0)
    dispose()
    const judged: JudgedScope[] = []
    if (expect.length > 0) {
      // A request the probe cut off says nothing about the service.
      const answered = probe.samples.filter((sample) => !sample.stopped)
      const samples = judgedSamples(answered, new Set(['(all)']))
      const verdicts = judge(expect, samples)
      judged.push({ scope: 'run', name: '(all)', atMs: tracker.elapsed(), verdicts })
      terminal.line(
        `${verdicts.every((v) => v.held) ? '✔' : '✖'} expectations over all ${samples.length} requests`,
      )
      for (const line of formatVerdicts(verdicts)) terminal.line(line)
    }
    const rows = summarise(
      probe.samples,
      tracker.phases,
      new Map(judged.map((scope) => [scope.name, scope.verdicts])),
    )
    terminal.line(`\n${formatSummary(rows, 'Probe summary', countLeftOut(probe.samples))}`)
    const failed = failedCount(judged)
    const exitCode = failed > 0 ? EXPECTATION_FAILED_EXIT_CODE : 0
    if (reportPath !== undefined || results !== undefined) {
      const record = {
        kind: 'probe',
        title: target,
        url: target,
        intervalMs,
        startedAt: new Date(origin).toISOString(),
        endedAtMs: tracker.elapsed(),
        phases: tracker.phases,
        samples: probe.samples,
        rows,
        summaryTitle: summaryTitle(rows, 'Probe summary'),
        marks: [],
        judged,
        outcome: {
          state: signal ? 'interrupted' : 'completed',
          text: signal
            ? `ended by ${describeInterruption(signal)} after ${probe.samples.length} requests`
            : `completed: ${probe.samples.length} requests`,
          exitCode,
        },
      } as const
      if (reportPath !== undefined) {
        await writeReport(reportPath, record)
        terminal.line(`Report: ${reportPath}`)
      }
      if (results !== undefined) {
        await writeResults(results, record)
        terminal.line(`Results: ${results}`)
      }
    }
    const verdictLine = describeExpectations(judged)
    if (verdictLine) terminal.line(verdictLine)
    if (failed > 0)
      terminal.error(
        `middy-chaos: ${failed} ${failed === 1 ? 'expectation' : 'expectations'} failed (exit ${EXPECTATION_FAILED_EXIT_CODE})`,
      )
    return exitCode
  },
}
