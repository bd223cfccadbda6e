/**
 * Runs an SSM Automation document as the Automation service does, against the
 * store: steps in order (or `nextStep`), `isEnd`, `maxAttempts`,
 * `timeoutSeconds`; a failed step follows `onFailure` (`Abort`, `Continue`,
 * `step:<name>`), and the execution is `Failed` if the step was critical; a
 * cancelled execution (FIS's stop, or the action's `maxDuration`) cancels the
 * step under way (`aws:sleep` and `hold` stop waiting at once, an API call in
 * flight completes and the cancel takes the next step) and follows its
 * `onCancel` (`step:<name>` runs from there, for at most 2 minutes, as SSM's
 * cancel workflow does: a step still running then is cut, and nothing runs
 * after it); the execution is then `Cancelled`. A step that outlasts its
 * `timeoutSeconds` is cut too (`TimedOut`), whatever it is doing.
 *
 * @module
 */
import { type FaultCatalog, sleep } from '@middy-chaos/core'
import { describeError } from '@middy-chaos/experiment'
import { CANCEL_WINDOW_SECONDS } from '../runbook.js'
import { callSsm } from './api.js'
import type { AutomationDocument, AutomationStep } from './document.js'
import { runHandler } from './handlers.js'
import type { ConfigStore } from './store.js'
import { parseIsoDuration } from './template.js'
import { asText, EXECUTION_ID_VARIABLE, select, substitute, toType } from './variables.js'

/**
 * SSM runs a cancelled execution's `onCancel` workflow for at most two
 * minutes (`CANCEL_WINDOW_SECONDS` of `@middy-chaos/fis`).
 */
export const CANCEL_WORKFLOW_MS = CANCEL_WINDOW_SECONDS * 1000

/** How waits are shortened: `waitMs` replaces each, `timeScale` multiplies each. */
export interface Timing {
  readonly waitMs?: number
  readonly timeScale?: number
}

/** A wait of `ms` as played (no wait stays none). */
export const playedWait = (ms: number, timing: Timing = {}): number =>
  ms === 0 ? 0 : (timing.waitMs ?? Math.round(ms * (timing.timeScale ?? 1)))

export type StepState = 'running' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled'

/** What an execution reports while it runs. */
export type AutomationEvent =
  | {
      type: 'step'
      step: AutomationStep
      state: StepState
      attempt: number
      /** What the step does (`ssm PutParameter`, `sleep 6s`, `hold 6s`), or why it failed. */
      detail?: string
    }
  | { type: 'write'; step: AutomationStep; value: string | undefined; version?: number }

export type AutomationStatus = 'Success' | 'Failed' | 'Cancelled'

export interface AutomationResult {
  readonly status: AutomationStatus
  /** The first critical step that failed, and why. */
  readonly failure?: { step: string; error: string; cause: unknown }
  /** Outputs of the steps that ran, `step.Output`. */
  readonly outputs: ReadonlyMap<string, unknown>
}

/** What an execution runs with. */
export interface AutomationOptions {
  readonly document: AutomationDocument
  /** The document's parameters, resolved ({@link resolveParameters}). */
  readonly parameters: Readonly<Record<string, unknown>>
  readonly executionId: string
  readonly store: ConfigStore
  /** The parameter name the documents use, mapped onto the store. */
  readonly parameterName: string
  /** `global:ACCOUNT_ID`, `global:REGION`, `global:AWS_PARTITION`. */
  readonly globals: { account: string; region: string; partition: string }
  /** Aborting cancels the execution (`StopAutomationExecution`). */
  readonly cancel?: AbortSignal
  readonly timing?: Timing
  readonly faults: FaultCatalog
  /** History label prefix of the writes: `fis <template>: <action>`. */
  readonly label: string
  readonly onEvent?: (event: AutomationEvent) => void
  /** How long the cancel workflow may run, ms (default {@link CANCEL_WORKFLOW_MS}, SSM's). */
  readonly cancelWindowMs?: number
}

/** What {@link orCut} resolves with when `cut` aborts before the work settles. */
const CUT = Symbol('cut')

/**
 * `work`, or {@link CUT} as soon as `cut` aborts: a step SSM would cut (at
 * its timeout, or at the end of the cancel window) ends then, even if its
 * call is still in flight. What it does afterwards is no longer reported.
 */
const orCut = <T>(work: Promise<T>, cut: AbortSignal): Promise<T | typeof CUT> =>
  new Promise((resolve, reject) => {
    const onCut = () => resolve(CUT)
    if (cut.aborted) onCut()
    else cut.addEventListener('abort', onCut, { once: true })
    work.then(
      (value) => {
        cut.removeEventListener('abort', onCut)
        resolve(value)
      },
      (error: unknown) => {
        cut.removeEventListener('abort', onCut)
        reject(error)
      },
    )
  })

/**
 * The document's parameters: `given` (FIS's `documentParameters`, text or
 * lists of text) converted to the declared types, over the defaults. Throws,
 * naming every problem, for an undeclared parameter, a missing one, or a value
 * of the wrong type or outside `allowedValues` / `allowedPattern`.
 */
export const resolveParameters = (
  document: AutomationDocument,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> => {
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  for (const key of Object.keys(given)) {
    if (!document.parameters.has(key))
      problems.push(`${key}: not a parameter of document ${document.name}`)
  }
  for (const [key, spec] of document.parameters) {
    const raw = key in given ? given[key] : spec.default
    if (raw === undefined) {
      problems.push(`${key}: required by document ${document.name}, and not given`)
      continue
    }
    try {
      const value = toType(raw, spec.type)
      if (spec.allowedValues && !spec.allowedValues.some((allowed) => allowed === value))
        throw new Error(
          `${asText(value)} is not one of ${spec.allowedValues.map(asText).join(', ')}`,
        )
      if (
        spec.allowedPattern &&
        typeof value === 'string' &&
        !new RegExp(spec.allowedPattern).test(value)
      )
        throw new Error(`"${value}" does not match ${spec.allowedPattern}`)
      values[key] = value
    } catch (error) {
      problems.push(`${key}: ${describeError(error)}`)
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '))
  return values
}

/** `2026-12-01` and `2026-12-01_13.45.00`, UTC: Automation's DATE and DATE_TIME. */
const dateVariables = (now = new Date()) => {
  const iso = now.toISOString()
  return {
    date: iso.slice(0, 10),
    dateTime: `${iso.slice(0, 10)}_${iso.slice(11, 19).replaceAll(':', '.')}`,
  }
}

/** Whether a step waits (and so stops at once when cancelled). */
const waits = (step: AutomationStep): boolean =>
  step.action === 'aws:sleep' || (step.action === 'aws:executeScript' && step.handler === 'hold')

/**
 * Runs a document to its end; resolves with the execution's status. Never
 * throws for what a step does: a step's error is its failure.
 */
export const runAutomation = async (options: AutomationOptions): Promise<AutomationResult> => {
  const { document, store, parameterName, faults, timing = {} } = options
  const emit = (event: AutomationEvent) => {
    try {
      options.onEvent?.(event)
    } catch {
      // A broken renderer must not stop an execution.
    }
  }
  const outputs = new Map<string, unknown>()
  const lookup = (name: string): unknown => {
    if (name in options.parameters) return options.parameters[name]
    if (name === EXECUTION_ID_VARIABLE) return options.executionId
    const { date, dateTime } = dateVariables()
    const globals: Record<string, string> = {
      'global:ACCOUNT_ID': options.globals.account,
      'global:REGION': options.globals.region,
      'global:AWS_PARTITION': options.globals.partition,
      'global:DATE': date,
      'global:DATE_TIME': dateTime,
    }
    return globals[name] ?? outputs.get(name)
  }
  const indexOf = new Map(document.steps.map((step, index) => [step.name, index]))

  /** Runs a step's work once; `response` is what its outputs select from. */
  const execute = async (
    step: AutomationStep,
    signal: AbortSignal,
    cut: AbortSignal,
  ): Promise<{ response: unknown; detail?: string }> => {
    const inputs = substitute(
      step.action === 'aws:executeScript' ? { ...step.inputs, Script: '' } : step.inputs,
      lookup,
    ) as Record<string, unknown>
    const onWrite = (value: string | undefined, version?: number) => {
      if (!cut.aborted)
        emit({ type: 'write', step, value, ...(version === undefined ? {} : { version }) })
    }
    switch (step.action) {
      case 'aws:executeAwsApi': {
        const response = await callSsm(step.api, inputs, {
          store,
          parameterName,
          label: `${options.label}: ${step.name}`,
          onWrite,
        })
        return { response }
      }
      case 'aws:sleep': {
        let ms: number
        if (inputs.Duration !== undefined) {
          const duration = parseIsoDuration(inputs.Duration)
          if (duration === undefined)
            throw new Error(`Duration ${asText(inputs.Duration)} is not an ISO 8601 duration`)
          ms = playedWait(duration, timing)
        } else {
          const until = Date.parse(asText(inputs.Timestamp))
          if (Number.isNaN(until))
            throw new Error(`Timestamp ${asText(inputs.Timestamp)} is not a time`)
          ms = Math.max(0, until - Date.now())
        }
        await sleep(ms, signal)
        return { response: {} }
      }
      case 'aws:executeScript': {
        const payload = await runHandler(
          step.handler,
          (inputs.InputPayload ?? {}) as Record<string, unknown>,
          {
            store,
            parameterName,
            stepName: step.name,
            signal,
            holdMs: (seconds) => playedWait(seconds * 1000, timing),
            faults,
            onWrite,
          },
        )
        outputs.set(`${step.name}.OutputPayload`, JSON.stringify({ Payload: payload }))
        return { response: { Payload: payload } }
      }
    }
  }

  const describe = (step: AutomationStep): string => {
    switch (step.action) {
      case 'aws:executeAwsApi':
        return `aws:executeAwsApi ssm ${step.api}`
      case 'aws:sleep':
        return `aws:sleep ${asText(step.inputs.Duration ?? step.inputs.Timestamp)}`
      case 'aws:executeScript':
        return `aws:executeScript ${step.handler}`
    }
  }

  let cancelling = false
  const cancelWindowMs = options.cancelWindowMs ?? CANCEL_WORKFLOW_MS
  const outOfWindow = `the cancel workflow ran out of its ${cancelWindowMs / 1000} s (SSM ends it there)`
  const deadline = new AbortController()
  let deadlineTimer: NodeJS.Timeout | undefined
  const cancelled = () => !cancelling && options.cancel?.aborted === true

  /** Runs a step with its retries and timeout; resolves with its final state. */
  const attempt = async (
    step: AutomationStep,
  ): Promise<{ state: Exclude<StepState, 'running'>; error?: string; cause?: unknown }> => {
    let last: { state: 'Failed' | 'TimedOut'; error: string; cause: unknown } | undefined
    for (let round = 1; round <= step.maxAttempts; round++) {
      if (cancelled()) return { state: 'Cancelled' }
      if (deadline.signal.aborted) return { state: 'Failed', error: outOfWindow }
      emit({ type: 'step', step, state: 'running', attempt: round, detail: describe(step) })
      const timeout = new AbortController()
      const timer =
        step.timeoutSeconds === undefined
          ? undefined
          : setTimeout(() => timeout.abort(), step.timeoutSeconds * 1000)
      const signal = AbortSignal.any([
        timeout.signal,
        cancelling ? deadline.signal : (options.cancel ?? new AbortController().signal),
      ])
      // What SSM cuts a step at, whatever it is doing: its timeout, the end of the cancel window.
      const cut = cancelling ? AbortSignal.any([timeout.signal, deadline.signal]) : timeout.signal
      try {
        const outcome = await orCut(execute(step, signal, cut), cut)
        if (outcome === CUT || (waits(step) && signal.aborted)) {
          if (timeout.signal.aborted) {
            last = {
              state: 'TimedOut',
              error: `timed out after ${step.timeoutSeconds} s`,
              cause: undefined,
            }
            continue
          }
          if (cancelling) return { state: 'Failed', error: outOfWindow }
          return { state: 'Cancelled' }
        }
        const { response } = outcome
        for (const output of step.outputs) {
          const selected = select(response, output.selector)
          if (selected !== undefined)
            outputs.set(`${step.name}.${output.name}`, toType(selected, output.type))
        }
        return { state: 'Success' }
      } catch (error) {
        last = { state: 'Failed', error: describeError(error), cause: error }
      } finally {
        clearTimeout(timer)
      }
    }
    return last ?? { state: 'Failed', error: 'no attempt ran', cause: undefined }
  }

  let status: AutomationStatus = 'Success'
  let failure: AutomationResult['failure']
  let index: number | undefined = 0
  try {
    while (index !== undefined && index < document.steps.length) {
      const step = document.steps[index] as AutomationStep
      const result = await attempt(step)
      emit({
        type: 'step',
        step,
        state: result.state,
        attempt: 0,
        ...(result.error === undefined ? {} : { detail: result.error }),
      })
      const next: number | undefined =
        step.nextStep === undefined ? index + 1 : indexOf.get(step.nextStep)
      if (result.state === 'Success') {
        index = step.isEnd ? undefined : next
      } else if (result.state === 'Cancelled') {
        cancelling = true
        status = 'Cancelled'
        deadlineTimer = setTimeout(() => deadline.abort(), cancelWindowMs)
        index = typeof step.onCancel === 'object' ? indexOf.get(step.onCancel.step) : undefined
      } else {
        if (step.isCritical && status === 'Success') status = 'Failed'
        if (step.isCritical && failure === undefined)
          failure = { step: step.name, error: result.error ?? result.state, cause: result.cause }
        if (step.onFailure === 'Abort') index = undefined
        else if (step.onFailure === 'Continue') index = step.isEnd ? undefined : next
        else index = indexOf.get(step.onFailure.step)
      }
      // Past the cancel window, SSM runs nothing more.
      if (deadline.signal.aborted) index = undefined
    }
  } finally {
    clearTimeout(deadlineTimer)
  }
  return { status, ...(failure === undefined ? {} : { failure }), outputs }
}
