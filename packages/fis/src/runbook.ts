/**
 * The SSM Automation runbook (schemaVersion 0.3) that runs a whole
 * experiment in one automation execution, so that the value read at the
 * start is there for the restore on every path:
 *
 * ```
 * AcquireLease       acquire  the lease, then the value recorded in it     ┐ onFailure and onCancel:
 * S01_<step>         hold     write the step's value, hold its wait         │ step:Restore
 * S01_<step>_rest    aws:loop a wait past 540 s goes on, 540 s at a time,   │
 *   S01_<step>_more  hold     in one step repeated by the loop              ┘
 * Restore            restore  the recorded value back, the lease released   isEnd
 * ```
 *
 * Every step carries its own script (SSM has no shared scripts), and a
 * document is at most 64 KB: the loop keeps a 12-hour wait to two steps.
 * Stopping the experiment cancels the automation, and SSM gives the cancel
 * path (`onCancel`, then `Restore`) two minutes: `Restore`'s attempts fit in
 * half of it.
 *
 * @module
 */
import {
  MAX_RUNBOOK_BYTES,
  type RunbookDelivery,
  type RunbookFormat,
  runbookBytes,
} from './content.js'
import {
  checkFisExperiment,
  type FisExperiment,
  FisExperimentError,
  holdSeconds,
  stepName,
} from './experiment.js'
import { EXPIRY_GRACE_SECONDS, RUNBOOK_HANDLERS, type RunbookHandler } from './handlers.js'
import { kmsKeyForm } from './iam.js'
import { checkLeaseFits, type LeaseTier } from './lease.js'
import type {
  RunbookDocument,
  RunbookLoop,
  RunbookParameter,
  RunbookStep,
} from './runbook-document.js'

export type { RunbookDocument, RunbookLoop, RunbookParameter, RunbookStep }

/** The `aws:executeScript` runtime of every step. */
export const RUNBOOK_RUNTIME = 'python3.11'

/**
 * Longest hold of one step: `aws:executeScript` runs at most 600 s, and a
 * step's timeout is its hold plus 60 s.
 */
export const MAX_HOLD_CHUNK_SECONDS = 540

/** Default lease TTL, seconds: the longest the faults outlive a dead automation. */
export const DEFAULT_LEASE_TTL_SECONDS = 60

/**
 * Shortest and longest lease TTL on AWS, seconds. Shorter than the CLI's
 * (2 s) is unsafe here: nothing renews the stamp while SSM moves from one step
 * to the next, which takes seconds.
 */
export const LEASE_TTL_SECONDS_BOUNDS = { min: 30, max: 3600 } as const

/** The step every other step goes to on failure and on cancel. */
export const RESTORE_STEP = 'Restore'

/**
 * How long SSM runs a cancelled execution's `onCancel` workflow, seconds
 * ("Automation runs the cancellation workflow for a maximum of two minutes",
 * Systems Manager Automation actions reference, `onCancel`).
 */
export const CANCEL_WINDOW_SECONDS = 120

/**
 * `Restore`'s `timeoutSeconds` and `maxAttempts`: 2 × 30 s, half of the
 * {@link CANCEL_WINDOW_SECONDS}, the rest left to SSM for starting the step.
 * A restore makes three SSM calls, each given 5 s to connect and read.
 */
export const RESTORE_TIMEOUT_SECONDS = 30
/** See {@link RESTORE_TIMEOUT_SECONDS}. */
export const RESTORE_MAX_ATTEMPTS = 2

/** SSM's limit on the iterations of an `aws:loop`. */
export const MAX_LOOP_ITERATIONS = 100

/** Options of {@link buildRunbook}. */
export interface RunbookOptions {
  /** Default of the runbook's `LeaseTtlSeconds` (default 60). */
  readonly leaseTtlSeconds?: number
  /**
   * Default of the runbook's `KmsKeyId`: the KMS key (ARN, id or alias) of a
   * SecureString chaos parameter encrypted with a key of yours. Every
   * SecureString the runbook writes (the parameter, its lease) is then
   * encrypted with it rather than with the account's `aws/ssm` key. The
   * automation role needs `kms:Encrypt`, `kms:Decrypt` and
   * `kms:GenerateDataKey` on it (`automationRoleStatements({ kmsKey: kmsKeyGrant(kmsKeyId, …) })`).
   */
  readonly kmsKeyId?: string
  /**
   * The format the runbook is written in (default `JSON`): its size is checked
   * as that text (`runbookContent`).
   */
  readonly format?: RunbookFormat
  /**
   * How SSM receives it (default `CreateDocument`: the text as written;
   * `CloudFormation`: a JSON object CloudFormation sends indented).
   */
  readonly delivery?: RunbookDelivery
  /**
   * The SSM tier the lease is written in (default `Standard`, 4 KB; `Advanced`:
   * 8 KB, charged by AWS). An experiment whose lease would not fit is refused
   * ({@link checkLeaseFits}).
   */
  readonly leaseTier?: LeaseTier
  /** The parameter's value before the experiment, when known: the lease is sized with it. */
  readonly originalValue?: string
}

/** Checks a lease TTL against {@link LEASE_TTL_SECONDS_BOUNDS}. */
export const checkLeaseTtl = (seconds: number): number => {
  const { min, max } = LEASE_TTL_SECONDS_BOUNDS
  if (!Number.isInteger(seconds) || seconds < min || seconds > max)
    throw new FisExperimentError(
      `lease TTL: ${seconds} s; on AWS it must be a whole number of seconds from ${min} to ${max}`,
    )
  return seconds
}

/**
 * Checks a KMS key as SSM's `KeyId` takes it: a key ARN, a key id, an alias
 * name (`alias/<name>`) or an alias ARN ({@link kmsKeyForm}); `''` is no key.
 * A string with a CDK token (`\${Token[…]}`) is let through: CloudFormation
 * resolves it.
 */
export const checkKmsKeyId = (key: string): string => {
  if (key === '' || key.includes('${Token[') || kmsKeyForm(key) !== undefined) return key
  throw new FisExperimentError(
    `KMS key "${key.slice(0, 80)}": a key ARN, key id, alias name (alias/<name>) or alias ARN`,
  )
}

const BLOCKS = RUNBOOK_HANDLERS.split('\n\n\n')
const DEFINED = new Map(
  BLOCKS.slice(1).map((block) => [/^def (\w+)\(/.exec(block)?.[1] ?? '', block] as const),
)

/**
 * The `Script` of a step running `handler`: {@link RUNBOOK_HANDLERS} cut down
 * to its imports, the handler and the helpers it calls, without its comment
 * lines (SSM limits a document to 64 KB, and every step carries its own
 * script). It starts with the same first line, `# middy-chaos runbook handlers v1`.
 */
export const runbookScript = (handler: RunbookHandler): string => {
  const needed = new Set<string>()
  const visit = (name: string) => {
    const block = DEFINED.get(name)
    if (block === undefined || needed.has(name)) return
    needed.add(name)
    for (const [, called] of block.matchAll(/\b(_\w+)\(/g)) visit(called ?? '')
  }
  visit(handler)
  const blocks = [...DEFINED].filter(([name]) => needed.has(name)).map(([, block]) => block)
  // Comment lines stay in RUNBOOK_HANDLERS (the package's source) but not in every step's copy:
  // about 15 % of each script, so more steps fit in the 64 KB. The first line, the marker, stays.
  const [marker, ...rest] = [BLOCKS[0], ...blocks].join('\n\n\n').split('\n')
  return [marker, ...rest.filter((line) => !/^\s*#/.test(line))].join('\n')
}

const SCRIPTS = {
  acquire: runbookScript('acquire'),
  hold: runbookScript('hold'),
  restore: runbookScript('restore'),
} as const

const PARAMETER = '{{ ParameterName }}'
const LEASE_TTL = '{{ LeaseTtlSeconds }}'
const KMS_KEY = '{{ KmsKeyId }}'
const EXECUTION_ID = '{{ automation:EXECUTION_ID }}'
const TO_RESTORE = { onFailure: `step:${RESTORE_STEP}`, onCancel: `step:${RESTORE_STEP}` } as const

const script = (handler: RunbookHandler, payload: Record<string, string>) => ({
  Runtime: RUNBOOK_RUNTIME,
  Handler: handler,
  Script: SCRIPTS[handler],
  InputPayload: payload,
})

/** `total` seconds in at most {@link MAX_HOLD_CHUNK_SECONDS}-second parts, as even as they come. */
const chunks = (total: number): number[] => {
  const count = Math.max(1, Math.ceil(total / MAX_HOLD_CHUNK_SECONDS))
  const base = Math.floor(total / count)
  return Array.from({ length: count }, (_, index) => base + (index < total % count ? 1 : 0))
}

/**
 * The runbook of an experiment: `AcquireLease`, one `hold` step per
 * experiment step (a wait past 540 s goes on in `_2`, `_3` … steps), and
 * `Restore`, which every other step's `onFailure` and `onCancel` go to.
 * Throws {@link FisExperimentError} for an experiment AWS would refuse,
 * including a runbook past SSM's 64 KB (less the parameters given at run
 * time, as written in `options.format`) and a lease past its tier.
 *
 * @example
 * ```ts
 * const runbook = buildRunbook(experiment, { leaseTtlSeconds: 60 })
 * await ssm.send(new CreateDocumentCommand({
 *   Name: 'middy-chaos-workshop', DocumentType: 'Automation', DocumentFormat: 'JSON',
 *   Content: JSON.stringify(runbook),
 * }))
 * ```
 */
export const buildRunbook = (
  experiment: FisExperiment,
  options: RunbookOptions = {},
): RunbookDocument => {
  checkFisExperiment(experiment)
  const ttl = checkLeaseTtl(options.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS)
  const kmsKeyId = checkKmsKeyId(options.kmsKeyId ?? '')
  const leaseTier = options.leaseTier ?? 'Standard'
  checkLeaseFits(experiment, {
    leaseTier,
    ...(options.originalValue === undefined ? {} : { originalValue: options.originalValue }),
  })
  const steps: (RunbookStep | RunbookLoop)[] = [
    {
      name: 'AcquireLease',
      action: 'aws:executeScript',
      description:
        'Takes the lease of the parameter (refused if another run holds it), then records its value in it',
      timeoutSeconds: 60,
      ...TO_RESTORE,
      inputs: script('acquire', {
        ParameterName: PARAMETER,
        LeaseTtlSeconds: LEASE_TTL,
        KmsKeyId: KMS_KEY,
        ExecutionId: EXECUTION_ID,
        Experiment: experiment.name,
        ...(leaseTier === 'Standard' ? {} : { LeaseTier: leaseTier }),
      }),
    },
  ]
  experiment.steps.forEach((step, index) => {
    const name = stepName(index, step.name)
    const hold = (
      stepNamed: string,
      config: string,
      stamp: boolean,
      seconds: string,
      timeoutSeconds: number,
    ): RunbookStep => ({
      name: stepNamed,
      action: 'aws:executeScript',
      timeoutSeconds,
      ...TO_RESTORE,
      inputs: script('hold', {
        ParameterName: PARAMETER,
        LeaseTtlSeconds: LEASE_TTL,
        KmsKeyId: KMS_KEY,
        ExecutionId: EXECUTION_ID,
        Config: config,
        Stamp: String(stamp),
        HoldSeconds: seconds,
        GraceSeconds: String(EXPIRY_GRACE_SECONDS),
      }),
    })
    const [first = 0, ...rest] = chunks(holdSeconds(step))
    steps.push(
      hold(
        name,
        step.set ?? '',
        step.set !== undefined && step.turnsFaultsOn,
        String(first),
        first + 60,
      ),
    )
    if (rest.length > 0) {
      // The rest of the wait: the value in force (recorded in the lease) is renewed, not rewritten.
      const loop = `${name}_rest`
      steps.push({
        name: loop,
        action: 'aws:loop',
        description: `The rest of the wait of step ${step.name}, ${MAX_HOLD_CHUNK_SECONDS} s at a time`,
        onFailure: `step:${RESTORE_STEP}`,
        inputs: {
          Iterators: rest.map(String),
          IteratorDataType: 'String',
          Steps: [
            hold(
              `${name}_more`,
              '',
              false,
              `{{ ${loop}.CurrentIteratorValue }}`,
              MAX_HOLD_CHUNK_SECONDS + 60,
            ),
          ],
        },
      })
    }
  })
  steps.push({
    name: RESTORE_STEP,
    action: 'aws:executeScript',
    description:
      'Writes back the value recorded in the lease (or deletes the parameter if it did not exist), then releases the lease; nothing unless this execution holds it',
    timeoutSeconds: RESTORE_TIMEOUT_SECONDS,
    maxAttempts: RESTORE_MAX_ATTEMPTS,
    isEnd: true,
    inputs: script('restore', {
      ParameterName: PARAMETER,
      ExecutionId: EXECUTION_ID,
      KmsKeyId: KMS_KEY,
    }),
  })
  const runbook: RunbookDocument = {
    schemaVersion: '0.3',
    description: `${experiment.description ?? `middy-chaos experiment ${experiment.name}`} (middy-chaos: one experiment per parameter, values expire unless renewed, restored on completion, cancel and failure)`,
    assumeRole: '{{ AutomationAssumeRole }}',
    parameters: {
      AutomationAssumeRole: {
        type: 'String',
        description:
          'ARN of the role the automation runs with: it reads and writes the parameter and its lease',
      },
      ParameterName: {
        type: 'String',
        description: 'The chaos config parameter the functions read (CHAOS_PARAM)',
        allowedPattern: '^[a-zA-Z0-9_.\\-/]+$',
      },
      LeaseTtlSeconds: {
        type: 'String',
        description:
          'Lease and expiry TTL, seconds: if the automation dies, its faults stop within it',
        default: String(ttl),
        // Whoever starts the automation cannot pass 0 (the local player may pass a few seconds).
        allowedPattern: '^[1-9][0-9]{0,3}$',
      },
      KmsKeyId: {
        type: 'String',
        description:
          'KMS key (ARN, id or alias) of a SecureString parameter encrypted with a key of yours: the parameter and its lease are written with it; empty: the account default key',
        default: kmsKeyId,
        allowedPattern: '^[a-zA-Z0-9:/_\\-]{0,2048}$',
      },
    },
    mainSteps: steps,
  }
  const format = options.format ?? 'JSON'
  const delivery = options.delivery ?? 'CreateDocument'
  const bytes = runbookBytes(runbook, format, delivery)
  if (bytes > MAX_RUNBOOK_BYTES) {
    throw new FisExperimentError(
      `experiment ${experiment.name}: its runbook would be ${bytes} bytes as ${format}${delivery === 'CloudFormation' && format === 'JSON' ? ' (indented, as CloudFormation sends it)' : ''}, past ${MAX_RUNBOOK_BYTES} (SSM's 64 KB document limit, which counts the parameters given at run time, less FIS's 1024 characters of them): every step of the experiment is one or two script steps of about 3.5 KB; split it into several experiments`,
    )
  }
  return runbook
}

/**
 * Every script step of a runbook, the steps inside its loops included, in
 * document order: what SSM runs (a loop's step once per iteration).
 */
export const scriptSteps = (runbook: RunbookDocument): RunbookStep[] =>
  runbook.mainSteps.flatMap((step) =>
    step.action === 'aws:loop' ? [...step.inputs.Steps] : [step],
  )
