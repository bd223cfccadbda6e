/**
 * `middy-chaos experiment run --fis-template <file> --document <file> …`: the
 * command line of the local FIS player. Reads and checks everything (refusing
 * by name what it cannot play) before it creates the store; then plays with
 * the timeline, an optional probe, the template's alarm stop conditions, and
 * SIGINT / SIGTERM as `aws fis stop-experiment`.
 *
 * @module
 */
import { sleep } from '@middy-chaos/core'
import { describeConfig, MAX_EXPERIMENT_MS, UsageError } from '@middy-chaos/experiment'
import type { Timing } from '@middy-chaos/fis/local'
import {
  type AutomationDocument,
  loadAutomationDocument,
  loadFisTemplate,
  type PlayResult,
  planFisExperiment,
  playedMaxDuration,
  playFisExperiment,
} from '@middy-chaos/fis/local'
import {
  countLeftOut,
  describeFisEnd,
  fisTimelinePrinter,
  formatDuration,
  formatProbeLine,
  formatSummary,
  RECOVER_LATER,
} from '../report/output.js'
import { checkProbe, PhaseTracker, Probe, ProbeLostWatch, summarise } from '../runner/probe.js'
import { type Interruption, runInterruptible, signalExitCode } from '../runner/signals.js'
import { AlarmWatch } from '../runner/watch.js'
import { createStore, resolveStoreSelection } from '../stores/index.js'
import {
  durationOption,
  intervalOption,
  numberOption,
  type OptionValues,
  probeLostOption,
  storeSelection,
  stringOption,
  urlOption,
} from './args.js'
import type { CommandContext } from './command.js'

/** Options of `experiment run` that mean nothing to a template's play. */
const NOT_WITH_FIS = [
  'takeover',
  'lease-ttl',
  'stop-if',
  'report',
  'results',
  'junit',
  'expect',
  'settle',
]

/** `--document Name=file.yaml` or `--document file.yaml` (the name is the file's). */
const documentArgument = (text: string): { name?: string; path: string } => {
  const match = /^([A-Za-z0-9_.-]{3,128})=(.+)$/.exec(text)
  return match ? { name: match[1] as string, path: match[2] as string } : { path: text }
}

/** The exit code of a play (see the command's help). */
export const playExitCode = (result: PlayResult, signal: Interruption | undefined): number => {
  if (result.restoreFailed !== undefined) return 3
  if (result.refused !== undefined) return 5
  if (result.outcome === 'failed') return 1
  if (result.outcome === 'stopped') return 4
  if (result.outcome === 'interrupted') return signalExitCode(signal)
  return 0
}

/** Runs `experiment run --fis-template …`; resolves with the exit code. */
export const runFisTemplate = async (
  values: OptionValues,
  file: string | undefined,
  { terminal, faults }: CommandContext,
): Promise<number> => {
  const templatePath = stringOption(values, 'fis-template') as string
  if (file !== undefined)
    throw new UsageError(
      `experiment run: give an experiment file or --fis-template, not both (got ${file})`,
    )
  for (const name of NOT_WITH_FIS) {
    if (values[name] !== undefined)
      throw new UsageError(
        `--${name} does not apply to --fis-template (the documents hold their own lease and restore; middy-chaos recover restores a stale lease)`,
      )
  }
  const documentArgs = Array.isArray(values.document) ? values.document : []
  if (documentArgs.length === 0)
    throw new UsageError('--fis-template: give the SSM document(s) it runs with --document <file>')
  const timeScale = numberOption('time-scale', stringOption(values, 'time-scale'), 1, (n) => n >= 0)
  const wait = stringOption(values, 'wait')
  const timing: Timing = {
    timeScale,
    ...(wait === undefined ? {} : { waitMs: durationOption('wait', wait, 0) }),
  }
  const intervalMs = intervalOption(values, 1000)
  const probeUrl = stringOption(values, 'probe')
  if (probeUrl) urlOption(probeUrl)
  const probeLostMs = probeLostOption(values)
  const leadMs = durationOption('lead', stringOption(values, 'lead'), 0)
  const tailMs = durationOption('tail', stringOption(values, 'tail'), 0)
  const alarmIntervalMs = durationOption(
    'alarm-interval',
    stringOption(values, 'alarm-interval'),
    5000,
  )
  const extraAlarms = Array.isArray(values['stop-on-alarm']) ? values['stop-on-alarm'] : []

  // Everything is read and checked before the store is even created.
  const template = await loadFisTemplate(templatePath)
  const documents: AutomationDocument[] = []
  for (const argument of documentArgs) {
    const { name, path } = documentArgument(argument)
    documents.push(await loadAutomationDocument(path, name))
  }
  const plan = planFisExperiment(template, documents)
  for (const action of template.actions) {
    const ms =
      action.kind === 'wait'
        ? action.durationMs * timeScale
        : playedMaxDuration(action.maxDurationMs, timing)
    if (ms > MAX_EXPERIMENT_MS)
      throw new UsageError(
        `--time-scale: action ${action.name} would last ${formatDuration(ms)}, longer than 12 hours`,
      )
  }
  const selection = storeSelection(values)
  const { kind } = resolveStoreSelection(selection, plan.parameterName)
  // SSM: --param (if given) plays the documents' parameter; the file store: --param or its default.
  const store = createStore(selection, kind === 'ssm' ? plan.parameterName : undefined)

  // The probe's URL must answer before anything is written (exit 2 otherwise).
  if (probeUrl) await checkProbe(probeUrl)
  const alarms = [
    ...template.stopConditions.flatMap((c) =>
      c.source === 'aws:cloudwatch:alarm' ? [c.alarm] : [],
    ),
    ...extraAlarms,
  ]
  const stop = new AbortController()
  const alarmWatch =
    alarms.length > 0 ? new AlarmWatch({ alarms, intervalMs: alarmIntervalMs }) : undefined
  try {
    await alarmWatch?.start((reason) => stop.abort(reason))
  } catch (error) {
    alarmWatch?.close()
    throw error
  }

  const initial = await store.read()
  const tracker = new PhaseTracker('(baseline)', describeConfig(initial?.value, faults))
  // A probe that no longer reaches its URL stops the experiment, as a stop condition does.
  const lost =
    probeUrl && probeLostMs !== Number.POSITIVE_INFINITY
      ? new ProbeLostWatch(probeUrl, probeLostMs, (reason) => stop.abort(reason))
      : undefined
  const probe = probeUrl
    ? new Probe({
        url: probeUrl,
        intervalMs,
        tracker,
        onSample: (sample) => {
          terminal.line(formatProbeLine(sample))
          lost?.add(sample)
        },
      })
    : undefined
  probe?.start()
  if (probe) await sleep(leadMs)

  const print = fisTimelinePrinter(terminal, faults)
  const automations = new Set<string>()
  let played: { result: PlayResult; signal: Interruption | undefined }
  try {
    played = await runInterruptible(
      terminal,
      (signal) =>
        playFisExperiment(plan, {
          store,
          signal,
          stop: stop.signal,
          timing,
          faults,
          onEvent: (event) => {
            print(event)
            // The probe's phases: the automation step under way, or the wait when no automation runs.
            if (event.type === 'action' && event.action.kind === 'automation') {
              if (event.state === 'running') automations.add(event.action.name)
              else automations.delete(event.action.name)
            } else if (
              event.type === 'action' &&
              event.state === 'running' &&
              automations.size === 0
            )
              tracker.enter(event.action.name)
            else if (
              event.type === 'automation' &&
              event.event.type === 'step' &&
              event.event.state === 'running'
            )
              tracker.enter(`${event.action.name} › ${event.event.step.name}`)
            else if (event.type === 'automation' && event.event.type === 'write')
              tracker.bump(describeConfig(event.event.value, faults))
          },
        }),
      {
        stopping: 'stopping the experiment as aws fis stop-experiment does',
        waiting: 'the cancelled automations are finishing, please wait',
      },
    )
  } finally {
    alarmWatch?.close()
  }
  const { result, signal } = played
  for (const line of describeFisEnd(store, result, faults)) terminal.line(line)
  if (probe) {
    tracker.enter('(after)', describeConfig(result.final?.value, faults))
    await sleep(tailMs)
    await probe.stop()
    terminal.line(
      `\n${formatSummary(summarise(probe.samples, tracker.phases), 'Probe summary per step', countLeftOut(probe.samples))}`,
    )
  }
  if (result.restoreFailed !== undefined)
    terminal.error(
      `middy-chaos: the restore failed (${result.restoreFailed}); the lease keeps the value to restore: ${RECOVER_LATER}`,
    )
  else if (result.refused !== undefined) terminal.error(`middy-chaos: ${result.refused.message}`)
  else if (result.outcome === 'failed') terminal.error(`middy-chaos: ${result.error}`)
  else if (result.outcome === 'stopped')
    terminal.error(`middy-chaos: stopped by ${result.stoppedBy}`)
  return playExitCode(result, signal)
}
