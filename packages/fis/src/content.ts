/**
 * The runbook as SSM's `CreateDocument` takes it: its `Content`, JSON or
 * YAML, and the size SSM allows it. The size checked is the size of the text
 * SSM receives, and the bound leaves room for the parameters given at run
 * time, which SSM counts in the same quota:
 *
 * - `aws ssm create-document --content file://…` sends the file as it is:
 *   the text `runbookContent` writes;
 * - CloudFormation's `AWS::SSM::Document` sends a text `Content` as it is,
 *   and serializes an object `Content` itself, as indented JSON (Jackson's
 *   `INDENT_OUTPUT`, in AWS's resource provider for `AWS::SSM::Document`,
 *   `DocumentModelTranslator.processDocumentContent`): about 5 % larger than
 *   compact JSON, and that is what is measured for it.
 *
 * @module
 */
import { stringify } from 'yaml'
import { MAX_ACTION_PARAMETER_LENGTH } from './experiment.js'
import type { RunbookDocument } from './runbook-document.js'

/** The formats of the runbook's content (`DocumentFormat`). */
export const RUNBOOK_FORMATS = ['JSON', 'YAML'] as const

/** `JSON` (the default) or `YAML` (the format of AWS's own runbook examples). */
export type RunbookFormat = (typeof RUNBOOK_FORMATS)[number]

/**
 * SSM's limit on a document's content (`CreateDocument`: "must not exceed
 * 64KB. This quota also includes the content specified for input parameters
 * at runtime").
 */
export const MAX_DOCUMENT_BYTES = 64 * 1024

/**
 * The most the parameters given at run time weigh: FIS passes them as the
 * action's `documentParameters`, at most 1024 characters (ASCII: ARNs, a
 * parameter name, digits); `KmsKeyId` is the runbook's default, in its content.
 */
export const RUNTIME_PARAMETERS_BYTES = MAX_ACTION_PARAMETER_LENGTH

/** The largest runbook content this package writes: 64 KB less the runtime parameters. */
export const MAX_RUNBOOK_BYTES = MAX_DOCUMENT_BYTES - RUNTIME_PARAMETERS_BYTES

/**
 * How the content reaches SSM: `CreateDocument`, the text
 * {@link runbookContent} writes (`aws ssm create-document`, or a CloudFormation
 * `Content` given as that text); `CloudFormation`, a JSON `Content` given as an
 * object, which CloudFormation sends as indented JSON ({@link jacksonIndentedJson}).
 */
export type RunbookDelivery = 'CreateDocument' | 'CloudFormation'

/**
 * The runbook's `Content` as it is written and sent to SSM: compact JSON, or
 * YAML with every script as a literal block (`|-`) and YAML 1.1 quoting, so
 * that a parser of either YAML version reads each value back as the same
 * string.
 *
 * @example
 * ```ts
 * const content = runbookContent(buildRunbook(experiment, { format: 'YAML' }), 'YAML')
 * // aws ssm create-document --document-type Automation --document-format YAML --content file://runbook.yaml
 * ```
 */
export const runbookContent = (runbook: RunbookDocument, format: RunbookFormat = 'JSON'): string =>
  format === 'YAML'
    ? stringify(runbook, { version: '1.1', lineWidth: 0, blockQuote: 'literal', indent: 2 })
    : JSON.stringify(runbook)

/**
 * The size of a runbook's content as SSM receives it (UTF-8 bytes): the text
 * written in `format`, or, for a JSON object given to CloudFormation, the
 * indented JSON CloudFormation makes of it.
 *
 * @example
 * ```ts
 * runbookBytes(runbook)                             // the compact JSON `aws ssm create-document` sends
 * runbookBytes(runbook, 'JSON', 'CloudFormation')   // what CloudFormation sends for an object Content
 * ```
 */
export const runbookBytes = (
  runbook: RunbookDocument,
  format: RunbookFormat = 'JSON',
  delivery: RunbookDelivery = 'CreateDocument',
): number =>
  utf8Bytes(
    format === 'JSON' && delivery === 'CloudFormation'
      ? jacksonIndentedJson(runbook)
      : runbookContent(runbook, format),
  )

/**
 * JSON as Jackson's `ObjectMapper` writes it with `INDENT_OUTPUT` (its
 * `DefaultPrettyPrinter`): an object's entries on their own lines, two spaces
 * a level, `"key" : value`; an array's items on one line, `[ a, b ]`; `{ }`
 * and `[ ]` when empty. Strings are escaped as `JSON.stringify` escapes them
 * (quotes, backslashes, control characters; everything else as it is).
 *
 * @example
 * ```ts
 * jacksonIndentedJson({ a: [1, { b: 'x' }], c: {} })
 * // '{\n  "a" : [ 1, {\n    "b" : "x"\n  } ],\n  "c" : { }\n}'
 * ```
 */
export const jacksonIndentedJson = (value: unknown, level = 0): string => {
  if (Array.isArray(value))
    return value.length === 0
      ? '[ ]'
      : `[ ${value.map((item) => jacksonIndentedJson(item, level)).join(', ')} ]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined)
    if (entries.length === 0) return '{ }'
    const indent = `\n${'  '.repeat(level + 1)}`
    const body = entries
      .map(
        ([key, item]) =>
          `${indent}${JSON.stringify(key)} : ${jacksonIndentedJson(item, level + 1)}`,
      )
      .join(',')
    return `{${body}\n${'  '.repeat(level)}}`
  }
  return JSON.stringify(value)
}

/** UTF-8 bytes of a text. */
export const utf8Bytes = (text: string): number => new TextEncoder().encode(text).length
