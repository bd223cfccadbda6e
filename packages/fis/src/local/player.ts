/**
 * Plays an AWS FIS experiment template locally, as FIS runs it: every action
 * starts as soon as all the actions of its `startAfter` have completed (in
 * parallel otherwise); `aws:fis:wait` waits; `aws:ssm:start-automation-execution`
 * runs its document ({@link runAutomation}) and waits for it, and cancels it
 * after `maxDuration` (the action then completes, as on FIS). A failed action
 * fails the experiment: FIS stops it. Stopping (SIGINT / SIGTERM, as
 * `aws fis stop-experiment`; or a stop condition) starts no more actions and
 * cancels the running automations, whose `onCancel` path runs; the player
 * waits for them.
 *
 * {@link planFisExperiment} checks everything first: an action, a document, a
 * step, an API or a handler it cannot play is refused, by name, before
 * anything runs.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { type FaultCatalog, sleep } from '@middy-chaos/core'
import { CliError, describeError, FAULTS, InputError } from '@middy-chaos/experiment'
import {
  type AutomationEvent,
  type AutomationStatus,
  playedWait,
  resolveParameters,
  runAutomation,
  type Timing,
} from './automation.js'
import type { AutomationDocument } from './document.js'
import { LeaseHeldError } from './lease.js'
import type { ConfigStore, StoredValue } from './store.js'
import type { AutomationAction, FisAction, FisTemplate } from './template.js'
import { substitute, UnresolvedVariableError } from './variables.js'

/** An automation action with its document and parameters, ready to run. */
export interface PlannedAutomation {
  readonly action: AutomationAction
  readonly document: AutomationDocument
  readonly parameters: Readonly<Record<string, unknown>>
}

/** A template checked against its documents: what {@link playFisExperiment} plays. */
export interface FisPlan {
  readonly template: FisTemplate
  readonly automations: ReadonlyMap<string, PlannedAutomation>
  /**
   * The one SSM parameter the documents read and write (`Name` of their
   * parameter calls, `ParameterName` of the runbook handlers): the store plays
   * it. `undefined` when no document touches a parameter.
   */
  readonly parameterName?: string
  /** Whether a document runs the middy-chaos runbook handlers (lease, stamp, restore). */
  readonly runbook: boolean
}

/**
 * Checks a template against its documents (matched by the name its
 * `documentArn` ends with): every automation action has its document, its
 * `documentParameters` fit the document's parameters, and all the documents
 * touch one parameter, named without step outputs. Throws a {@link CliError}
 * naming every problem.
 */
export const planFisExperiment = (
  template: FisTemplate,
  documents: readonly AutomationDocument[],
): FisPlan => {
  const problems: string[] = []
  const byName = new Map(documents.map((document) => [document.name, document]))
  const automations = new Map<string, PlannedAutomation>()
  const names = new Map<string, string>()
  let runbook = false
  for (const action of template.actions) {
    if (action.kind !== 'automation') continue
    const at = `actions.${action.name}`
    const document = byName.get(action.document.name)
    if (document === undefined) {
      problems.push(
        `${at}: no --document for ${action.document.name} (${action.document.arn}); give it as --document ${action.document.name}=<file>`,
      )
      continue
    }
    let parameters: Record<string, unknown>
    try {
      parameters = resolveParameters(document, action.documentParameters)
    } catch (error) {
      problems.push(`${at}.documentParameters: ${describeError(error)}`)
      continue
    }
    automations.set(action.name, { action, document, parameters })
    for (const step of document.steps) {
      const input =
        step.action === 'aws:executeAwsApi'
          ? step.inputs.Name
          : step.action === 'aws:executeScript'
            ? (step.inputs.InputPayload as Record<string, unknown>).ParameterName
            : undefined
      if (step.action === 'aws:executeScript') runbook = true
      if (input === undefined) continue
      try {
        const name = substitute(input, (variable) =>
          variable in parameters ? parameters[variable] : undefined,
        )
        if (typeof name !== 'string') throw new Error(`${JSON.stringify(name)} is not a name`)
        if (!names.has(name)) names.set(name, `${at} (${document.name} step ${step.name})`)
      } catch (error) {
        problems.push(
          error instanceof UnresolvedVariableError
            ? `${at}: ${document.name} step ${step.name}: the parameter name depends on {{ ${error.variable} }}; the player needs it from the document's parameters`
            : `${at}: ${document.name} step ${step.name}: ${describeError(error)}`,
        )
      }
    }
  }
  if (names.size > 1)
    problems.push(
      `the documents touch ${names.size} parameters (${[...names].map(([name, where]) => `${name} in ${where}`).join(', ')}); the player plays one parameter on one store`,
    )
  if (problems.length > 0)
    throw new InputError(`cannot play FIS template ${template.name}: ${problems.join('; ')}`)
  const [parameterName] = names.keys()
  return {
    template,
    automations,
    ...(parameterName === undefined ? {} : { parameterName }),
    runbook,
  }
}

/** FIS's states of an action, as the player reaches them. */
export type ActionState = 'pending' | 'running' | 'completed' | 'failed' | 'stopped'

/** What the player reports while it plays. */
export type FisEvent =
  | { type: 'start'; plan: FisPlan; store: ConfigStore; initial: StoredValue | undefined }
  | {
      type: 'action'
      action: FisAction
      state: ActionState
      elapsedMs: number
      /** The wait as played, the document, or why it failed or stopped. */
      detail?: string
    }
  | {
      type: 'automation'
      action: AutomationAction
      executionId: string
      event: AutomationEvent
      elapsedMs: number
    }
  | { type: 'stopping'; reason: string; elapsedMs: number }

export interface PlayResult {
  /** `interrupted`: SIGINT / SIGTERM; `stopped`: a stop condition. */
  readonly outcome: 'completed' | 'failed' | 'interrupted' | 'stopped'
  /** Why the experiment failed: the first failed action. */
  readonly error?: string
  readonly stoppedBy?: string
  /** A middy-chaos `AcquireLease` found the parameter held by another run. */
  readonly refused?: LeaseHeldError
  /** A middy-chaos `restore` step failed: the lease keeps the value to restore. */
  readonly restoreFailed?: string
  readonly actions: Readonly<Record<string, ActionState>>
  readonly initial: StoredValue | undefined
  readonly final: StoredValue | undefined
  readonly elapsedMs: number
}

export interface PlayOptions {
  readonly store: ConfigStore
  /** Aborting stops the experiment as `aws fis stop-experiment` (SIGINT / SIGTERM). */
  readonly signal?: AbortSignal
  /** Aborting stops the experiment for a stop condition, its `reason` saying which. */
  readonly stop?: AbortSignal
  readonly timing?: Timing
  readonly faults?: FaultCatalog
  readonly onEvent?: (event: FisEvent) => void
  /** Automation execution ids (default: random UUIDs, as SSM's). */
  readonly executionId?: () => string
}

/**
 * A `maxDuration` as played: scaled with `--time-scale` (never under 1 s, so
 * an API call has time), unchanged with `--wait`.
 */
export const playedMaxDuration = (ms: number, timing: Timing = {}): number =>
  timing.waitMs !== undefined ? ms : Math.max(1000, Math.round(ms * (timing.timeScale ?? 1)))

/**
 * Plays a checked template against a store. Resolves when every action has
 * ended (or, after a stop or a failure, every running one has).
 *
 * @example
 * ```ts
 * const template = await loadFisTemplate('template.json')
 * const plan = planFisExperiment(template, [await loadAutomationDocument('runbook.yaml', 'Runbook')])
 * const result = await playFisExperiment(plan, { store: new FileStore('.chaos/config.json'), timing: { timeScale: 0.1 } })
 * ```
 */
export const playFisExperiment = async (
  plan: FisPlan,
  options: PlayOptions,
): Promise<PlayResult> => {
  const { store, timing = {} } = options
  const faults = options.faults ?? FAULTS
  const emit = (event: FisEvent) => {
    try {
      options.onEvent?.(event)
    } catch {
      // A broken renderer must not stop an experiment.
    }
  }
  const initial = await store.read()
  const started = Date.now()
  const elapsed = () => Date.now() - started
  emit({ type: 'start', plan, store, initial })

  const halt = new AbortController()
  let outcome = 'completed' as PlayResult['outcome']
  let error: string | undefined
  let refused: LeaseHeldError | undefined
  let restoreFailed: string | undefined
  const stopExperiment = (reason: string, why: PlayResult['outcome']) => {
    if (halt.signal.aborted) return
    outcome = why
    emit({ type: 'stopping', reason, elapsedMs: elapsed() })
    halt.abort(reason)
  }
  const onSignal = () =>
    stopExperiment(String(options.signal?.reason ?? 'interrupted'), 'interrupted')
  const onStop = () => stopExperiment(String(options.stop?.reason ?? 'a stop condition'), 'stopped')
  if (options.signal?.aborted) onSignal()
  if (options.stop?.aborted) onStop()
  options.signal?.addEventListener('abort', onSignal, { once: true })
  options.stop?.addEventListener('abort', onStop, { once: true })

  const states = new Map<string, ActionState>(
    plan.template.actions.map((action) => [action.name, 'pending']),
  )
  const setState = (action: FisAction, state: ActionState, detail?: string) => {
    states.set(action.name, state)
    emit({
      type: 'action',
      action,
      state,
      elapsedMs: elapsed(),
      ...(detail === undefined ? {} : { detail }),
    })
  }

  const runWait = async (action: Extract<FisAction, { kind: 'wait' }>) => {
    const ms = playedWait(action.durationMs, timing)
    setState(
      action,
      'running',
      `aws:fis:wait ${action.duration}${ms === action.durationMs ? '' : ` (played ${ms} ms)`}`,
    )
    await sleep(ms, halt.signal)
    if (halt.signal.aborted) setState(action, 'stopped')
    else setState(action, 'completed')
  }

  const runAction = async (planned: PlannedAutomation) => {
    const { action, document, parameters } = planned
    const executionId = options.executionId?.() ?? randomUUID()
    const maxMs = playedMaxDuration(action.maxDurationMs, timing)
    setState(
      action,
      'running',
      `${action.actionId} ${document.name} (maxDuration ${action.maxDuration}${maxMs === action.maxDurationMs ? '' : `, played ${maxMs} ms`}; execution ${executionId})`,
    )
    const cancel = new AbortController()
    const timer = setTimeout(() => cancel.abort('maxDuration'), maxMs)
    const onHalt = () => cancel.abort('stop')
    halt.signal.addEventListener('abort', onHalt, { once: true })
    if (halt.signal.aborted) onHalt()
    let status: AutomationStatus
    let failure: string | undefined
    try {
      const result = await runAutomation({
        document,
        parameters,
        executionId,
        store,
        parameterName: plan.parameterName ?? '',
        globals: {
          account: action.document.account,
          region: action.document.region,
          partition: action.document.partition,
        },
        cancel: cancel.signal,
        timing,
        faults,
        label: `fis ${plan.template.name}: ${action.name}`,
        onEvent: (event) => {
          if (
            event.type === 'step' &&
            event.state === 'Failed' &&
            event.step.action === 'aws:executeScript'
          ) {
            if (event.step.handler === 'restore') restoreFailed ??= event.detail
          }
          emit({ type: 'automation', action, executionId, event, elapsedMs: elapsed() })
        },
      })
      status = result.status
      if (result.failure) {
        failure = `${document.name} step ${result.failure.step} failed: ${result.failure.error}`
        if (result.failure.cause instanceof LeaseHeldError) refused ??= result.failure.cause
      }
    } finally {
      clearTimeout(timer)
      halt.signal.removeEventListener('abort', onHalt)
    }
    if (status === 'Success') setState(action, 'completed', 'automation Success')
    else if (status === 'Cancelled' && cancel.signal.reason === 'maxDuration')
      setState(
        action,
        'completed',
        `maxDuration ${action.maxDuration} reached: automation Cancelled`,
      )
    else if (status === 'Cancelled') setState(action, 'stopped', 'automation Cancelled')
    else {
      const reason = `action ${action.name}: automation Failed (${failure ?? 'a step failed'})`
      setState(action, 'failed', failure)
      if (!halt.signal.aborted) {
        error ??= reason
        stopExperiment(reason, 'failed')
      }
    }
  }

  await new Promise<void>((resolve) => {
    let active = 0
    const launch = () => {
      if (!halt.signal.aborted) {
        for (const action of plan.template.actions) {
          if (states.get(action.name) !== 'pending') continue
          if (!action.startAfter.every((name) => states.get(name) === 'completed')) continue
          states.set(action.name, 'running')
          active++
          const run =
            action.kind === 'wait'
              ? runWait(action)
              : runAction(plan.automations.get(action.name) as PlannedAutomation)
          void run
            .catch((failure: unknown) => {
              setState(action, 'failed', describeError(failure))
              error ??= `action ${action.name}: ${describeError(failure)}`
              stopExperiment(error, 'failed')
            })
            .finally(() => {
              active--
              launch()
            })
        }
      }
      if (active === 0) resolve()
    }
    launch()
  })
  options.signal?.removeEventListener('abort', onSignal)
  options.stop?.removeEventListener('abort', onStop)

  const final = await store.read().catch(() => undefined)
  return {
    outcome,
    ...(error === undefined ? {} : { error }),
    ...(outcome === 'stopped'
      ? { stoppedBy: String(options.stop?.reason ?? 'a stop condition') }
      : {}),
    ...(refused === undefined ? {} : { refused }),
    ...(restoreFailed === undefined ? {} : { restoreFailed }),
    actions: Object.fromEntries(states),
    initial,
    final,
    elapsedMs: elapsed(),
  }
}
