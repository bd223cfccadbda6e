import {
  durationOption,
  numberOption,
  STORE_HELP,
  STORE_OPTIONS,
  storeSelection,
  stringOption,
  urlOption,
} from '../args.js'
import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { adjustWaits, loadExperiment, totalWait } from '../experiment.js'
import { formatDuration, formatSummary } from '../output.js'
import { writeReport } from '../report.js'
import { runSession, sessionExitCode } from '../session.js'
import { runInterruptible } from '../signals.js'
import { createStore } from '../store.js'

/** `middy-chaos experiment run | validate <file>`. */
export const experimentCommand: Command = {
  name: 'experiment',
  usage: [
    'experiment run <file> [--probe <url>] [--wait 4s | --time-scale 0.1]',
    'experiment validate <file>',
  ],
  help: () => `middy-chaos experiment run <file> [options]
  Runs the steps in order, then restores the parameter's pre-experiment value (also on Ctrl-C and on failure).
  --probe <url>          probe this URL during the experiment; prints a summary per step
  --interval <duration>  probe interval (default 1s)
  --lead <duration>      probe this long before the first step (default 0)
  --tail <duration>      probe this long after the restore (default 0)
  --wait <duration>      replace every wait of the experiment by this duration
  --time-scale <x>       multiply every wait by x (0.1 makes 1m into 6s)
  --report <file>        write every probe sample and the summary as JSON
${STORE_HELP}
middy-chaos experiment validate <file>: checks the file and prints its steps`,
  options: () => ({
    ...STORE_OPTIONS,
    probe: { type: 'string' },
    interval: { type: 'string' },
    lead: { type: 'string' },
    tail: { type: 'string' },
    wait: { type: 'string' },
    'time-scale': { type: 'string' },
    report: { type: 'string' },
  }),
  async run({ values, positionals }, context) {
    const { terminal, faults } = context
    const [sub, file] = positionals
    if (sub === undefined) {
      terminal.line(experimentCommand.help(context))
      return 0
    }
    if (sub !== 'run' && sub !== 'validate') {
      throw new UsageError(`experiment: unknown subcommand "${sub}" (use "run" or "validate")`)
    }
    if (!file) throw new UsageError(`experiment ${sub}: which experiment file?`)
    if (positionals.length > 2)
      throw new UsageError(`experiment ${sub}: unexpected argument "${positionals[2]}"`)
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
    if (sub === 'validate') {
      terminal.line(
        `${file}: experiment ${experiment.name}, ${experiment.steps.length} steps, ${formatDuration(totalWait(experiment))} of waits`,
      )
      for (const step of experiment.steps) {
        const parts = [
          step.set !== undefined ? `set ${step.setSummary}` : '',
          step.waitMs !== undefined ? `wait ${formatDuration(step.waitMs)}` : '',
        ]
        terminal.line(`  ${step.name}: ${parts.filter(Boolean).join(', ')}`)
      }
      return 0
    }
    const intervalMs = durationOption('interval', stringOption(values, 'interval'), 1000)
    const probe = stringOption(values, 'probe')
    if (probe) urlOption(probe)
    const leadMs = durationOption('lead', stringOption(values, 'lead'), 0)
    const tailMs = durationOption('tail', stringOption(values, 'tail'), 0)
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
      }),
    )
    if (probe) terminal.line(`\n${formatSummary(session.rows, 'Probe summary per step')}`)
    const report = stringOption(values, 'report')
    if (report) await writeReport(report, experiment, store, session)
    if (session.result.outcome === 'failed') terminal.error(`middy-chaos: ${session.result.error}`)
    return sessionExitCode(session, signal)
  },
}
