import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { adjustWaits, CliError } from '@middy-chaos/experiment'
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
import { loadExperiment } from '../runner/experiment-file.js'
import { runInterruptible } from '../runner/signals.js'
import { runSession, sessionExitCode } from '../session/index.js'
import { createStore } from '../stores/index.js'
import { durationOption, intervalOption, numberOption, stringOption } from './args.js'
import type { Command } from './command.js'

const DEMO_OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'

/** Starts `middy-chaos serve` as a child process; resolves with its URL once it listens. */
const spawnServe = async (
  args: string[],
  logPath: string,
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> => {
  const bin = fileURLToPath(new URL('../bin.js', import.meta.url))
  await mkdir(dirname(resolve(logPath)), { recursive: true })
  const log = createWriteStream(logPath)
  const child = spawn(process.execPath, [bin, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.pipe(log, { end: false })
  let stderr = ''
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new CliError(`the demo server did not start within 15 s (log: ${logPath})`)),
      15_000,
    )
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk)
      stderr += chunk.toString()
      const match = /Listening on (http:\/\/\S+)/.exec(stderr)
      if (match?.[1]) {
        clearTimeout(timer)
        resolveUrl(match[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      const lastLine = stderr.trim().split('\n').at(-1) ?? ''
      reject(
        new CliError(
          lastLine.startsWith('middy-chaos')
            ? lastLine.replace(/^middy-chaos: /, '')
            : `the demo server exited with code ${code} (log: ${logPath})`,
        ),
      )
    })
  })
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      log.end()
    },
  }
}

/** What the CLI ships for the demo (`lib/demo/`): the workshop's function and its experiment. */
const DEMO_FILES = {
  handler: fileURLToPath(new URL('../demo/function.js', import.meta.url)),
  experiment: fileURLToPath(new URL('../demo/workshop.json', import.meta.url)),
}

/** A path as the demo prints it: relative to the working folder when it is inside it. */
const shown = (path: string): string => {
  const relativePath = relative(process.cwd(), resolve(path))
  return relativePath.startsWith('..') || isAbsolute(relativePath) ? resolve(path) : relativePath
}

/**
 * `middy-chaos demo`: the AWS FIS workshop's experiment against its function,
 * both shipped with the CLI, in any folder: `npx @middy-chaos/cli demo`.
 */
export const demoCommand: Command = {
  name: 'demo',
  positionals: 0,
  usage: ['demo [--wait 4s] [--report .chaos/demo-report.html]   (npx @middy-chaos/cli demo)'],
  help: () => `middy-chaos demo [options]
  Serves the AWS FIS workshop's function (shipped with the CLI), probes it and runs the workshop's
  experiment with short waits, in any folder; writes the report and prints where.
  --wait <duration>      length of each wait step (default 4s; the workshop's is 1m)
  --lead / --tail        probing before the first step / after the restore (default 3s each)
  --interval <duration>  probe interval (default 300ms; 10ms to 1h)
  --max-age <seconds>    chaos config cache of the served function (default 1, as a Lambda function
                         has 5: the report shades the settling time after each write)
  --handler <module>     another handler to serve (default: the workshop's function)
  --experiment <file>    another experiment (default: the workshop's, shipped with the CLI)
  --param <file>         file store of the demo (default .chaos/demo.json)
  --port <n>             default 0 (a free port)
  --report <file>        the report: .html (default <param dir>/demo-report.html) or .json
  --results <file.jsonl> the raw measurements, one JSON object per request and per event`,
  options: () => ({
    handler: { type: 'string' },
    experiment: { type: 'string' },
    param: { type: 'string' },
    port: { type: 'string' },
    wait: { type: 'string' },
    lead: { type: 'string' },
    tail: { type: 'string' },
    interval: { type: 'string' },
    'max-age': { type: 'string' },
    report: { type: 'string' },
    results: { type: 'string' },
  }),
  async run({ values }, { terminal, faults }) {
    const handlerPath = stringOption(values, 'handler') ?? DEMO_FILES.handler
    const experimentPath = stringOption(values, 'experiment') ?? DEMO_FILES.experiment
    const param = stringOption(values, 'param') ?? '.chaos/demo.json'
    const port = numberOption(
      'port',
      stringOption(values, 'port'),
      0,
      (n) => Number.isInteger(n) && n >= 0 && n < 65536,
    )
    const maxAge = numberOption('max-age', stringOption(values, 'max-age'), 1, (n) => n >= 0)
    const waitMs = durationOption('wait', stringOption(values, 'wait'), 4000)
    const intervalMs = intervalOption(values, 300)
    const leadMs = durationOption('lead', stringOption(values, 'lead'), 3000)
    const tailMs = durationOption('tail', stringOption(values, 'tail'), 3000)
    const experiment = adjustWaits(await loadExperiment(experimentPath, faults), { waitMs })
    const demoStore = createStore({ store: 'file', param })
    const logPath = resolve(dirname(resolve(param)), 'demo-serve.log')
    const reportPath =
      stringOption(values, 'report') ?? resolve(dirname(resolve(param)), 'demo-report.html')
    reportFormat(reportPath)
    const results = stringOption(values, 'results')
    if (results !== undefined) resultsPath(results)

    terminal.line(
      `middy-chaos demo: the AWS FIS workshop's serverless experiment, locally (waits of ${formatDuration(waitMs)} instead of 1m)`,
    )
    await demoStore.write(DEMO_OFF, { label: 'demo: faults off' })
    const server = await spawnServe(
      [
        handlerPath,
        '--port',
        String(port),
        '--store',
        'file',
        '--param',
        param,
        '--max-age',
        String(maxAge),
        '--timeout',
        '3s',
      ],
      logPath,
    )
    try {
      terminal.line(
        `Serving ${handlerPath === DEMO_FILES.handler ? "the workshop's function" : handlerPath} at ${server.url} as API Gateway would (function logs: ${shown(logPath)})`,
      )
      terminal.line(`Probing it every ${formatDuration(intervalMs)}: BODY - STATUS - SECONDS\n`)
      const { result: session, signal } = await runInterruptible(terminal, (abort) =>
        runSession({
          experiment,
          store: demoStore,
          terminal,
          faults,
          signal: abort,
          url: server.url,
          intervalMs,
          leadMs,
          tailMs,
        }),
      )
      const title = 'Probe summary per step'
      terminal.line(`\n${formatSummary(session.rows, title, countLeftOut(session.samples))}`)
      terminal.line(
        maxAge === 0
          ? '(the function reads its chaos config on every request: each change shows on the next one)'
          : `(the function caches its chaos config for ${maxAge} s, as a Lambda function does for 5 s: the requests of the first ${formatDuration(session.settle?.ms ?? 0)} after each write may still show the previous one; the table leaves them out, the report shades that time)`,
      )
      const exitCode = sessionExitCode(session, signal)
      const record = experimentRecord(session, {
        experiment,
        store: demoStore,
        url: server.url,
        intervalMs,
        exitCode,
        signal,
        restoreText: describeRestore(demoStore, session.result.restore, faults),
        summaryTitle: summaryTitle(session.rows, title),
        file: { path: experimentPath, text: await readFile(experimentPath, 'utf8') },
        waits: `--wait ${formatDuration(waitMs)} (the demo's waits)`,
      })
      await writeReport(reportPath, record)
      terminal.line(
        `Report: ${shown(reportPath)}${reportFormat(reportPath) === 'html' ? ` (open it in a browser, ${pathToFileURL(resolve(reportPath)).href}: the timeline of every request, the steps, the table)` : ''}`,
      )
      if (results !== undefined) {
        await writeResults(results, record)
        terminal.line(`Results: ${results}`)
      }
      printRunEnd(terminal, session, exitCode)
      return exitCode
    } finally {
      await server.stop()
    }
  },
}
