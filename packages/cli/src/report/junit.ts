/**
 * `experiment run --junit <file>.xml`: the run's verdicts as JUnit XML, the
 * test report format GitHub (through a test-report action), GitLab
 * (`artifacts:reports:junit`) and Jenkins (`junit`) show. One test suite per
 * run; a test case per step, per expectation and for the run:
 *
 * - a step that completed passes; a failed step is an error, and so is a
 *   step where a stop condition or a signal ended the run; a step that never
 *   ran is skipped;
 * - an expectation that held passes (what was measured in its output); one
 *   that failed is a failure whose message names what was measured; one
 *   never judged (its step did not run) is skipped;
 * - the run passes when it completed and restored; a stop condition, a
 *   signal, a failed step or a failed restore is an error. Its output is the
 *   summary table the terminal printed.
 *
 * The layout follows the JUnit XML of Ant and Maven Surefire
 * (`testsuites` / `testsuite` / `testcase` with `failure`, `error`,
 * `skipped`, `system-out`).
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { type ExperimentStep, RUN_SCOPE, UsageError, type Verdict } from '@middy-chaos/experiment'
import { countLeftOut, formatSummary } from './output.js'
import type { RunRecord, SessionMark } from './record.js'

/** How a test case ended, as JUnit says it. */
export type JunitResult =
  | { readonly kind: 'passed' }
  | { readonly kind: 'failure' | 'error'; readonly type: string; readonly message: string }
  | { readonly kind: 'skipped'; readonly message: string }

/** One JUnit test case of a run. */
export interface JunitCase {
  readonly classname: string
  readonly name: string
  /** Seconds. */
  readonly time: number
  readonly result: JunitResult
  /** What the case printed: its `system-out`. */
  readonly output?: string
}

/** Checks `--junit <path>`: JUnit XML. */
export const junitPath = (path: string): string => {
  if (!/\.xml$/i.test(path))
    throw new UsageError(`--junit: "${path}" must end with .xml (JUnit XML)`)
  return path
}

/** The marks of a step's start and end (`atMs` on the probe's clock), when it has them. */
export const stepCourse = (marks: readonly SessionMark[], index: number) => {
  const own = marks.filter(
    (mark): mark is Extract<SessionMark, { type: 'step' }> =>
      mark.type === 'step' && mark.index === index,
  )
  const started = own.find((mark) => mark.state === 'running')
  const ended = own.find((mark) => mark.state !== 'running')
  return { started, ended }
}

const seconds = (ms: number): number => Math.max(0, ms) / 1000

/** The result of a step's test case. */
const stepResult = (
  record: RunRecord,
  course: ReturnType<typeof stepCourse>,
): { result: JunitResult; time: number } => {
  const { started, ended } = course
  const time = started && ended ? seconds(ended.atMs - started.atMs) : 0
  if (started === undefined)
    return {
      time,
      result: {
        kind: 'skipped',
        message: `not run: the run ended before this step (${record.outcome.text})`,
      },
    }
  switch (ended?.state) {
    case 'done':
      return { time, result: { kind: 'passed' } }
    case 'failed':
      return {
        time,
        result: { kind: 'error', type: 'failed', message: `step failed: ${ended.error ?? ''}` },
      }
    case 'stopped':
      return {
        time,
        result: {
          kind: 'error',
          type: 'stopped',
          message: `stopped by ${record.outcome.stoppedBy ?? 'a stop condition'}`,
        },
      }
    default:
      return {
        time,
        result: { kind: 'error', type: 'interrupted', message: record.outcome.text },
      }
  }
}

/** The test cases of a scope's expectations: its verdicts, or its expectations never judged. */
const expectationCases = (
  classname: string,
  verdicts: readonly Verdict[] | undefined,
  expected: readonly string[],
  notJudged: string,
): JunitCase[] =>
  verdicts === undefined
    ? expected.map((name) => ({
        classname,
        name,
        time: 0,
        result: { kind: 'skipped', message: notJudged },
      }))
    : verdicts.map((verdict) => ({
        classname,
        name: verdict.expectation,
        time: 0,
        result: verdict.held
          ? { kind: 'passed' }
          : {
              kind: 'failure',
              type: 'expectation',
              message: `expected ${verdict.expectation}, measured ${verdict.measured}`,
            },
        output: `${verdict.held ? 'held' : 'failed'}: ${verdict.measured}`,
      }))

/** The result of the run's test case: a stop, a signal, a failed step or restore is an error. */
const runResult = (record: RunRecord): JunitResult => {
  const { outcome } = record
  if (outcome.restore?.action === 'failed')
    return {
      kind: 'error',
      type: 'restore-failed',
      message: `the restore failed: ${outcome.restore.error ?? ''}; run middy-chaos recover`,
    }
  if (outcome.state === 'completed') return { kind: 'passed' }
  return { kind: 'error', type: outcome.state, message: outcome.text }
}

/** What the terminal printed at the end: the summary table, the restore, the outcome. */
const runOutput = (record: RunRecord): string =>
  [
    ...(record.rows.length > 0
      ? [
          formatSummary(
            record.rows,
            record.summaryTitle.replace(/: \d+ requests$/, ''),
            countLeftOut(record.samples),
          ),
        ]
      : []),
    ...(record.outcome.restore ? [record.outcome.restore.text.trim()] : []),
    `Outcome: ${record.outcome.text} (exit code ${record.outcome.exitCode})`,
  ].join('\n')

/**
 * The test cases of an experiment run: each step, then the expectations of
 * each step, then the run's expectations, then the run.
 */
export const junitCases = (record: RunRecord): JunitCase[] => {
  const suite = record.title
  const steps: readonly ExperimentStep[] = record.experiment?.steps ?? []
  const cases: JunitCase[] = []
  steps.forEach((step, index) => {
    const { result, time } = stepResult(record, stepCourse(record.marks, index))
    cases.push({
      classname: suite,
      name: step.name,
      time,
      result,
      ...(step.setSummary === undefined ? {} : { output: `set ${step.setSummary}` }),
    })
  })
  steps.forEach((step, index) => {
    const judged = record.judged.find((scope) => scope.scope === 'step' && scope.name === step.name)
    cases.push(
      ...expectationCases(
        `${suite}.${step.name}`,
        judged?.verdicts,
        (step.expect ?? []).map((expectation) => expectation.text),
        stepCourse(record.marks, index).started === undefined
          ? 'not judged: the step did not run'
          : 'not judged: the run ended before the step was',
      ),
    )
  })
  const run = record.judged.find((scope) => scope.scope === 'run')
  cases.push(
    ...expectationCases(
      `${suite}.${RUN_SCOPE}`,
      run?.verdicts,
      (record.experiment?.expect ?? []).map((expectation) => expectation.text),
      'not judged: the run ended before its steps were',
    ),
  )
  cases.push({
    classname: suite,
    name: 'run',
    time: seconds(record.endedAtMs),
    result: runResult(record),
    output: runOutput(record),
  })
  return cases
}

// XML 1.0 allows tab, newline, carriage return and the characters from U+0020 (no other C0 control).
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is removed
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g

/** Text as an XML attribute value or element content. */
const xml = (text: string): string =>
  text
    .replace(NOT_XML, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')

const attributes = (values: Readonly<Record<string, string | number>>): string =>
  Object.entries(values)
    .map(([name, value]) => ` ${name}="${xml(String(value))}"`)
    .join('')

const time = (value: number) => value.toFixed(3)

const caseXml = (testCase: JunitCase): string => {
  const { result } = testCase
  const open = `    <testcase${attributes({ classname: testCase.classname, name: testCase.name, time: time(testCase.time) })}`
  const body: string[] = []
  if (result.kind === 'skipped')
    body.push(`      <skipped${attributes({ message: result.message })}/>`)
  if (result.kind === 'failure' || result.kind === 'error')
    body.push(
      `      <${result.kind}${attributes({ message: result.message, type: result.type })}>${xml(result.message)}</${result.kind}>`,
    )
  if (testCase.output !== undefined)
    body.push(`      <system-out>${xml(testCase.output)}</system-out>`)
  return body.length === 0 ? `${open}/>` : [`${open}>`, ...body, '    </testcase>'].join('\n')
}

/**
 * The run as JUnit XML (see the module's description).
 *
 * @example
 * ```ts
 * // record: the RunRecord of a run, as --report writes it
 * await writeFile('results.xml', junitReport(record))
 * // <testcase classname="OutageHiddenFromCallers.S02_Hold" name="2xx&gt;=99%" time="0.000">
 * //   <failure message="expected 2xx&gt;=99%, measured 2xx 0% (0 of 20)" type="expectation">…
 * ```
 */
export const junitReport = (record: RunRecord): string => {
  const cases = junitCases(record)
  const count = (kind: JunitResult['kind']) => cases.filter((c) => c.result.kind === kind).length
  const totals = {
    tests: cases.length,
    failures: count('failure'),
    errors: count('error'),
    skipped: count('skipped'),
  }
  const duration = time(seconds(record.endedAtMs))
  const properties: [string, string | undefined][] = [
    ['outcome', record.outcome.text],
    ['exit code', String(record.outcome.exitCode)],
    ['started at', record.startedAt],
    ['store', record.store],
    ['probe', record.url],
    ['waits', record.waits],
    ['experiment file', record.file?.path],
    ['restore', record.outcome.restore?.text.trim()],
  ]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: `middy-chaos experiment ${record.title}`, ...totals, time: duration })}>`,
    // Ant's timestamp: ISO 8601 without a zone (UTC here; the properties have it with its zone).
    `  <testsuite${attributes({ name: record.title, ...totals, time: duration, timestamp: record.startedAt.slice(0, 19) })}>`,
    '    <properties>',
    ...properties.flatMap(([name, value]) =>
      value === undefined ? [] : [`      <property${attributes({ name, value })}/>`],
    ),
    '    </properties>',
    ...cases.map(caseXml),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

/** Writes `--junit <path>`: {@link junitReport}. */
export const writeJunit = async (path: string, record: RunRecord): Promise<void> => {
  await mkdir(dirname(resolve(path)), { recursive: true })
  await writeFile(path, junitReport(record))
}
