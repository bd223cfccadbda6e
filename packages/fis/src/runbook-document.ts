/**
 * The runbook's shape, as SSM's `CreateDocument` takes it: the document, its
 * parameters and its steps (`buildRunbook` of `runbook.ts` makes it;
 * `content.ts` writes it as JSON or YAML).
 *
 * @module
 */
import type { RunbookHandler } from './handlers.js'

/** One step of the runbook: every one is an `aws:executeScript` of the handlers. */
export interface RunbookStep {
  readonly name: string
  readonly action: 'aws:executeScript'
  readonly description?: string
  readonly timeoutSeconds: number
  readonly maxAttempts?: number
  readonly isEnd?: boolean
  readonly onFailure?: string
  readonly onCancel?: string
  readonly inputs: {
    readonly Runtime: string
    readonly Handler: RunbookHandler
    readonly Script: string
    readonly InputPayload: Readonly<Record<string, string>>
  }
}

/**
 * An `aws:loop` over literal iterators: the rest of a long wait, one
 * `MAX_HOLD_CHUNK_SECONDS`-second hold per iteration. It takes
 * `onFailure` (inherited by its step); `onCancel` is its step's (SSM does not
 * take it on the loop).
 */
export interface RunbookLoop {
  readonly name: string
  readonly action: 'aws:loop'
  readonly description?: string
  readonly onFailure: string
  readonly inputs: {
    readonly Iterators: readonly string[]
    readonly IteratorDataType: 'String'
    readonly Steps: readonly RunbookStep[]
  }
}

/** A declared parameter of the runbook. */
export interface RunbookParameter {
  readonly type: 'String'
  readonly description: string
  readonly default?: string
  readonly allowedPattern?: string
}

/** The runbook, as SSM's `CreateDocument` takes it (`DocumentType: Automation`). */
export interface RunbookDocument {
  readonly schemaVersion: '0.3'
  readonly description: string
  readonly assumeRole: '{{ AutomationAssumeRole }}'
  readonly parameters: {
    readonly AutomationAssumeRole: RunbookParameter
    readonly ParameterName: RunbookParameter
    readonly LeaseTtlSeconds: RunbookParameter
    readonly KmsKeyId: RunbookParameter
  }
  readonly mainSteps: readonly (RunbookStep | RunbookLoop)[]
}
