import { readFile } from 'node:fs/promises'
import type { FaultCatalog } from '@middy-chaos/core'
import {
  adjustWaits,
  checkDurations,
  describeError,
  type Expectation,
  type Experiment,
  InputError,
  parseProbeThreshold,
  readExpectOption,
  toFisExperiment,
  totalWait,
  UsageError,
} from '@middy-chaos/experiment'
import { checkLeaseFits, FisExperimentError, type LeaseFit, leaseFit } from '@middy-chaos/fis'
import { junitPath, writeJunit } from '../report/junit.js'
import {
  countLeftOut,
  describeRestore,
  formatDuration,
  formatSummary,
  printRunEnd,
  summaryTitle,
} from '../report/output.js'
import {
  experimentRecord,
  reportFormat,
  resultsPath,
  writeReport,
  writeResults,
} from '../report/report.js'
import { appendStepSummary, STEP_SUMMARY_ENV } from '../report/step-summary.js'
import { loadExperiment } from '../runner/experiment-file.js'
import { DEFAULT_LEASE_TTL_MS, LEASE_TTL_BOUNDS } from '../runner/run.js'
import { runInterruptible } from '../runner/signals.js'
import { runSession, sessionExitCode } from '../session/index.js'
import { createStore } from '../stores/index.js'
import {
  durationOption,
  intervalOption,
  numberOption,
  type OptionValues,
  probeLostOption,
  STORE_HELP,
  STORE_OPTIONS,
  storeSelection,
  stringOption,
  urlOption,
} from './args.js'
import type { Command } from './command.js'
import { EXPORT_HELP, EXPORT_OPTIONS, leaseTierOption, runExport } from './export.js'
import { runFisTemplate } from './fis-template.js'

/** `middy-chaos experiment run | validate | export <file>`. */
export const experimentCommand: Command = {
  name: 'experiment',
  positionals: 2,
  usage: [
    'experiment run <file> [--probe <url>] [--wait 4s | --time-scale 0.1] [--report report.html] [--junit results.xml]',
    'experiment run --fis-template <get-experiment-template.json> --document [<name>=]<file> ...',
    'experiment validate <file>',
    'experiment export <file> --to cloudformation|fis-json|runbook [--out <file>]',
  ],
  help: () => `middy-chaos experiment run <file> [options]
  Runs the steps in order, then restores the parameter's pre-experiment value (also on Ctrl-C and on failure).
  --probe <url>          probe this URL during the experiment; prints a summary per step. Once the
                         lease is held, the URL must answer (any HTTP status) before the first write,
                         else the run is refused (exit 2)
  --interval <duration>  probe interval (default 1s; 10ms to 1h)
  --lead <duration>      probe this long before the first step (default 0)
  --tail <duration>      probe this long after the restore (default 0)
  --settle <duration>    after each write, the time the functions may still serve the previous
                         config from their cache: requests starting within it are drawn in the
                         report but not judged (default: the cache window serve announces, 0 with
                         its default; for any other URL Powertools' 5 s window, plus one interval)
  --probe-lost <d|never> stop (and restore, exit 4) when the probe has reached nothing for this long,
                         two requests in a row at least (default 5s)
  --wait <duration>      replace every wait of the experiment by this duration
  --time-scale <x>       multiply every wait by x (0.1 makes 1m into 6s)
  --report <file>        write the report: .html, one page to open in a browser (timeline of every
                         request, steps, verdicts, table, outcome); .json, the same data
  --results <file.jsonl> write the raw measurements: one JSON object per request and per event
  --junit <file.xml>     write the verdicts as JUnit XML, for CI test reports: a test case per step,
                         per expectation and for the run (in GitHub Actions, where
                         GITHUB_STEP_SUMMARY is set, the run is also added to the job's summary)
  --expect <expectation> expect this of the requests of all the steps: "2xx>=99%", "p95<500ms",
                         "errors==0"; repeatable, besides the file's "expect" (needs --probe)
  --stop-on-alarm <name> stop (and restore) when this CloudWatch alarm is in ALARM; repeatable
  --stop-if <threshold>  stop (and restore) when the probe sees it: "errors>20%", "p95>2s over 30s";
                         repeatable (metrics: errors, 5xx, 4xx, non-2xx, p50, p90, p95, p99)
  --alarm-interval <d>   time between two checks of the alarms (default 5s)
  --lease-ttl <duration> the lease and the values' expiry (default 60s): if this runner dies, its
                         faults stop by themselves within it, and 2s after the end of the step
                         under way if that comes sooner
  --takeover             take over a stale lease (its runner is gone) and restore the value it recorded
${STORE_HELP}
Exit codes: 0 completed, 1 a runtime failure (a step failed: restored; or the file, the store or
CloudWatch could not be read), 2 refused for what it was given (a malformed option, an invalid
experiment, an alarm that does not exist, a --probe URL that does not answer; nothing written),
3 the restore failed, 4 stopped by a stop condition or a lost probe (restored), 5 refused: another experiment holds the parameter, 6 completed but an
expectation failed (restored), 130/143/129 SIGINT/SIGTERM/SIGHUP (restored), 141 its output could
not be written, as with | head (restored); an unexpected error stops and restores too (1).
middy-chaos experiment run --fis-template <file> --document [<name>=]<file> ... [options]
  Plays an AWS FIS experiment template (the JSON of aws fis get-experiment-template) locally with
  its SSM Automation documents (YAML or JSON; the name is the file's unless given), against the
  store; SIGINT / SIGTERM stop it as aws fis stop-experiment. --wait / --time-scale shorten
  aws:fis:wait, aws:sleep and the runbook's holds; --probe, --stop-on-alarm and the store options
  apply. Exit codes as above (1: an action failed; 3: a runbook's Restore failed; 5: its
  AcquireLease was refused); what it cannot play is refused by name before anything runs (2).
middy-chaos experiment validate <file> [--lease-tier standard|advanced]
  Checks the file and prints its steps and expectations, and how much of its SSM parameter the
  lease of its runbook on AWS FIS takes (exit 2 when it would not fit: see export's --lease-tier)
${EXPORT_HELP}`,
  options: () => ({
    ...STORE_OPTIONS,
    probe: { type: 'string' },
    interval: { type: 'string' },
    lead: { type: 'string' },
    tail: { type: 'string' },
    settle: { type: 'string' },
    'probe-lost': { type: 'string' },
    wait: { type: 'string' },
    'time-scale': { type: 'string' },
    report: { type: 'string' },
    results: { type: 'string' },
    junit: { type: 'string' },
    expect: { type: 'string', multiple: true },
    'stop-on-alarm': { type: 'string', multiple: true },
    'fis-template': { type: 'string' },
    document: { type: 'string', multiple: true },
    'stop-if': { type: 'string', multiple: true },
    'alarm-interval': { type: 'string' },
    'lease-ttl': { type: 'string' },
    takeover: { type: 'boolean' },
    ...EXPORT_OPTIONS,
  }),
  async run({ values, positionals }, context) {
    const { terminal, faults } = context
    const [sub, file] = positionals
    if (sub === undefined) {
      terminal.line(experimentCommand.help(context))
      return 0
    }
    if (sub !== 'run' && sub !== 'validate' && sub !== 'export') {
      throw new UsageError(
        `experiment: unknown subcommand "${sub}" (use "run", "validate" or "export")`,
      )
    }
    if (sub === 'export') return runExport(values, file, context)
    if (sub === 'run' && values['fis-template'] !== undefined)
      return runFisTemplate(values, file, context)
    if (!file) throw new UsageError(`experiment ${sub}: which experiment file?`)
    const timeScale = numberOption(
      'time-scale',
      stringOption(values, 'time-scale'),
      1,
      (n) => n >= 0,
    )
    const wait = stringOption(values, 'wait')
    const waitMs = wait === undefined ? undefined : durationOption('wait', wait, 0)
    const experiment = adjustWaits(await loadExperiment(file, faults), {
      timeScale,
      ...(waitMs === undefined ? {} : { waitMs }),
    })
    checkDurations(experiment, file)
    if (sub === 'validate') {
      const fit = awsLeaseFit(file, experiment, values, faults)
      for (const line of describeExperiment(file, experiment)) terminal.line(line)
      terminal.line(
        `  on AWS FIS (experiment export): its runbook's lease takes at most ${fit.bytes} of the ${fit.limit} bytes of its SSM parameter (${fit.tier} tier)`,
      )
      return 0
    }
    const reportPath = stringOption(values, 'report')
    if (reportPath !== undefined) reportFormat(reportPath)
    const results = stringOption(values, 'results')
    if (results !== undefined) resultsPath(results)
    const junit = stringOption(values, 'junit')
    if (junit !== undefined) junitPath(junit)
    const expect = list(values, 'expect').map((text) => readExpectOption(text))
    const intervalMs = intervalOption(values, 1000)
    const probe = stringOption(values, 'probe')
    if (probe) urlOption(probe)
    const leadMs = durationOption('lead', stringOption(values, 'lead'), 0)
    const tailMs = durationOption('tail', stringOption(values, 'tail'), 0)
    const settle = stringOption(values, 'settle')
    const settleMs = settle === undefined ? undefined : durationOption('settle', settle, 0)
    const probeLostMs = probeLostOption(values)
    const leaseTtlMs = durationOption(
      'lease-ttl',
      stringOption(values, 'lease-ttl'),
      DEFAULT_LEASE_TTL_MS,
    )
    if (leaseTtlMs < LEASE_TTL_BOUNDS.min || leaseTtlMs > LEASE_TTL_BOUNDS.max)
      throw new UsageError('--lease-ttl: must be from 2s to 1h')
    const alarmIntervalMs = durationOption(
      'alarm-interval',
      stringOption(values, 'alarm-interval'),
      5000,
    )
    if (alarmIntervalMs < 100) throw new UsageError('--alarm-interval: must be at least 100ms')
    const stopConditions = [
      ...list(values, 'stop-on-alarm').map((alarm) => {
        if (alarm.trim() === '') throw new UsageError('--stop-on-alarm: which alarm?')
        return { alarm }
      }),
      ...list(values, 'stop-if').map((threshold) => {
        parseProbeThreshold(threshold)
        return { probe: threshold }
      }),
    ]
    const store = createStore(storeSelection(values), experiment.parameter)
    const { result: session, signal } = await runInterruptible(terminal, (abort) =>
      runSession({
        experiment,
        store,
        terminal,
        faults,
        signal: abort,
        ...(probe ? { url: probe } : {}),
        intervalMs,
        leadMs,
        tailMs,
        stopConditions,
        alarmIntervalMs,
        leaseTtlMs,
        takeover: values.takeover === true,
        expect,
        ...(settleMs === undefined ? {} : { settleMs }),
        probeLostMs,
      }),
    )
    const title = 'Probe summary per step'
    if (probe)
      terminal.line(`\n${formatSummary(session.rows, title, countLeftOut(session.samples))}`)
    const exitCode = sessionExitCode(session, signal)
    const summary = process.env[STEP_SUMMARY_ENV]
    if (
      reportPath !== undefined ||
      results !== undefined ||
      junit !== undefined ||
      (summary !== undefined && summary !== '')
    ) {
      const record = experimentRecord(session, {
        experiment,
        store,
        ...(probe ? { url: probe, intervalMs } : {}),
        exitCode,
        signal,
        restoreText: describeRestore(store, session.result.restore, faults),
        summaryTitle: summaryTitle(session.rows, title),
        file: { path: file, text: await readFile(file, 'utf8').catch(() => '') },
        ...(waitMs !== undefined
          ? { waits: `--wait ${formatDuration(waitMs)}` }
          : timeScale !== 1
            ? { waits: `--time-scale ${timeScale}` }
            : {}),
      })
      if (reportPath !== undefined) await writeReport(reportPath, record)
      if (results !== undefined) await writeResults(results, record)
      if (junit !== undefined) await writeJunit(junit, record)
      if (reportPath !== undefined) terminal.line(`Report: ${reportPath}`)
      if (results !== undefined) terminal.line(`Results: ${results}`)
      if (junit !== undefined) terminal.line(`JUnit: ${junit}`)
      await appendStepSummary(record).then(
        (path) => path !== undefined && terminal.line(`Job summary: ${path}`),
        (error) =>
          terminal.error(
            `warning: could not add the run to ${STEP_SUMMARY_ENV}: ${describeError(error)}`,
          ),
      )
    }
    printRunEnd(terminal, session, exitCode)
    return exitCode
  },
}

/** A repeatable option's values. */
const list = (values: Record<string, unknown>, name: string): string[] => {
  const value = values[name]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/**
 * How much of its SSM parameter the runbook's lease takes on AWS
 * (`@middy-chaos/fis`'s `leaseFit`): refused, as an invalid input, when it
 * would not fit, since `export` and the CDK construct would refuse it too.
 */
const awsLeaseFit = (
  file: string,
  experiment: Experiment,
  values: OptionValues,
  faults: FaultCatalog,
): LeaseFit => {
  const { fis } = toFisExperiment(experiment, faults)
  const leaseTier = leaseTierOption(values)
  const options = leaseTier === undefined ? {} : { leaseTier }
  try {
    checkLeaseFits(fis, options)
  } catch (error) {
    if (error instanceof FisExperimentError)
      throw new InputError(`${file} cannot run on AWS FIS: ${error.message}`)
    throw error
  }
  return leaseFit(fis, options)
}

/** What `experiment validate` prints: the steps, what each does, and the expectations. */
const describeExperiment = (file: string, experiment: Experiment): string[] => {
  const expectations = (expect: readonly Expectation[] | undefined) =>
    expect === undefined || expect.length === 0
      ? ''
      : `expect ${expect.map((e) => e.text).join(', ')}`
  return [
    `${file}: experiment ${experiment.name}, ${experiment.steps.length} steps, ${formatDuration(totalWait(experiment))} of waits`,
    ...experiment.steps.map((step) => {
      const parts = [
        step.set !== undefined ? `set ${step.setSummary}` : '',
        step.waitMs !== undefined ? `wait ${formatDuration(step.waitMs)}` : '',
        expectations(step.expect),
      ]
      return `  ${step.name}: ${parts.filter(Boolean).join(', ')}`
    }),
    ...(experiment.expect === undefined || experiment.expect.length === 0
      ? []
      : [`  all steps: ${expectations(experiment.expect)}`]),
  ]
}
