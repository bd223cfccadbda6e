import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { describeConfig } from './describe.js'
import { durationOption, formatDuration } from './duration.js'
import { CliError, describeError, UsageError } from './errors.js'
import { adjustWaits, type Experiment, loadExperiment, totalWait } from './experiment.js'
import { formatProbeLine, formatSummary, Probe, summarise } from './probe.js'
import { loadHandler, startServer } from './serve.js'
import { runSession, type SessionResult } from './session.js'
import { type ConfigStore, createStore, resolveStoreSelection } from './store.js'
import { Terminal } from './terminal.js'
import { validateConfig } from './validate.js'

export const VERSION = '0.1.0'

const HELP = `middy-chaos ${VERSION}: chaos experiments for Lambda handlers built with Middy

Usage:
  middy-chaos serve <handler module> [--export handler] [--port 3000] [--timeout 3s]
  middy-chaos experiment run <file> [--probe <url>] [--wait 4s | --time-scale 0.1]
  middy-chaos experiment validate <file>
  middy-chaos probe <url> [--interval 1s] [--count n] [--duration 30s]
  middy-chaos status | disable
  middy-chaos enable [latency|status_code|exception] [--delay 400] [--error-code 404] [--message text] [--rate 1]
  middy-chaos set '<json>' | --file <config.json>
  middy-chaos demo [--wait 4s]

Config store options (every command that reads or writes the config):
  --store file|ssm     file (default, or CHAOS_STORE): a local JSON file; ssm: SSM Parameter Store
  --param <name>       file path or SSM parameter name (CHAOS_PARAM; file default .chaos/config.json)
  --endpoint <url>     SSM endpoint, e.g. moto (AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL)
  --region <region>    AWS region for SSM (AWS_REGION)

Run "middy-chaos <command> --help" for a command's options.`

const COMMAND_HELP: Record<string, string> = {
  serve: `middy-chaos serve <handler module> [options]
  Serves a Lambda handler at http://HOST:PORT/ as API Gateway's REST API with a Lambda proxy integration.
  --export <name>        exported handler (default handler)
  --port <n>             default 3000 (0 picks a free port)
  --host <host>          default 127.0.0.1
  --timeout <duration>   function timeout (default 3s, Lambda's default); past it: 502
  --function-name <n>    context.functionName (default: the module's folder name)
  --memory <mb>          context.memoryLimitInMB (default 128)
  --stage <name>         API stage in requestContext (default local)
  --max-age <seconds>    chaos config cache, POWERTOOLS_PARAMETERS_MAX_AGE (default 1 here, 5 in Lambda)
  plus the config store options (--store, --param, --endpoint, --region)`,
  experiment: `middy-chaos experiment run <file> [options]
  Runs the steps in order, then restores the parameter's pre-experiment value (also on Ctrl-C and on failure).
  --probe <url>          probe this URL during the experiment; prints a summary per step
  --interval <duration>  probe interval (default 1s)
  --lead <duration>      probe this long before the first step (default 0)
  --tail <duration>      probe this long after the restore (default 0)
  --wait <duration>      replace every wait of the experiment by this duration
  --time-scale <x>       multiply every wait by x (0.1 makes 1m into 6s)
  --report <file>        write every probe sample and the summary as JSON
  plus the config store options (--store, --param, --endpoint, --region)
middy-chaos experiment validate <file>: checks the file and prints its steps`,
  probe: `middy-chaos probe <url> [options]
  Prints "BODY - STATUS - SECONDS" per request, as the AWS FIS workshop's test.sh, and a summary on exit.
  --interval <duration>  time between requests (default 1s)
  --count <n>            stop after n requests
  --duration <duration>  stop after this long
  --timeout <duration>   per-request timeout (default 10s)`,
  demo: `middy-chaos demo [options]
  Serves examples/hello-world, probes it and runs the workshop experiment with short waits.
  --wait <duration>      length of each wait step (default 4s; the workshop's is 1m)
  --lead / --tail        probing before the first step / after the restore (default 3s each)
  --interval <duration>  probe interval (default 300ms)
  --max-age <seconds>    chaos config cache of the served function (default 1)
  --handler <module>     default examples/hello-world/lib/index.js
  --experiment <file>    default examples/hello-world/experiments/workshop.json
  --param <file>         file store of the demo (default .chaos/demo.json)
  --port <n>             default 0 (a free port)
  --report <file>        write every probe sample and the summary as JSON`,
}

const STORE_OPTIONS = {
  store: { type: 'string' },
  param: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Options = Parameters<typeof parseArgs>[0] extends infer C
  ? C extends { options?: infer O }
    ? O
    : never
  : never

const parse = <O extends Options>(args: string[], options: O) => {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    const message = describeError(error).replace(/^ERR_PARSE_ARGS_[A-Z_]+: /, '')
    throw new UsageError(message.split('. ')[0] ?? message)
  }
}

const numberOption = (
  name: string,
  text: string | undefined,
  fallback: number,
  check: (n: number) => boolean = Number.isFinite,
): number => {
  if (text === undefined) return fallback
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || !check(value)) {
    throw new UsageError(`--${name}: "${text}" is not a valid value`)
  }
  return value
}

const storeSelection = (values: Record<string, unknown>) => ({
  ...(typeof values.store === 'string' ? { store: values.store } : {}),
  ...(typeof values.param === 'string' ? { param: values.param } : {}),
  ...(typeof values.endpoint === 'string' ? { endpoint: values.endpoint } : {}),
  ...(typeof values.region === 'string' ? { region: values.region } : {}),
})

/** Calls `onSignal` on SIGINT / SIGTERM; returns a disposer. */
const trapSignals = (onSignal: (signal: NodeJS.Signals) => void): (() => void) => {
  const handler = (signal: NodeJS.Signals) => onSignal(signal)
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}

const signalExitCode = (signal: NodeJS.Signals | undefined) =>
  signal === 'SIGTERM' ? 143 : signal === 'SIGINT' ? 130 : 1

// ---------------------------------------------------------------------------
// serve

const serveCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values, positionals } = parse(args, {
    ...STORE_OPTIONS,
    export: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    timeout: { type: 'string' },
    'function-name': { type: 'string' },
    memory: { type: 'string' },
    stage: { type: 'string' },
    'max-age': { type: 'string' },
  })
  if (values.help) return help(terminal, 'serve')
  const modulePath = positionals[0]
  if (!modulePath)
    throw new UsageError('serve: which handler module? (middy-chaos serve lib/index.js)')
  if (positionals.length > 1) throw new UsageError(`serve: unexpected argument "${positionals[1]}"`)
  const port = numberOption(
    'port',
    values.port,
    3000,
    (n) => Number.isInteger(n) && n >= 0 && n < 65536,
  )
  const timeoutMs = durationOption('timeout', values.timeout, 3000)
  if (timeoutMs <= 0) throw new UsageError('--timeout: must be more than 0')
  const memoryMb = numberOption(
    'memory',
    values.memory,
    128,
    (n) => Number.isInteger(n) && n >= 128,
  )
  const maxAge = numberOption('max-age', values['max-age'], Number.NaN, (n) => n >= 0)

  // The in-process middlewares read these when the handler module is imported.
  const selection = storeSelection(values)
  const { kind, parameter } = resolveStoreSelection(selection)
  process.env.CHAOS_STORE = kind
  process.env.CHAOS_PARAM = parameter
  if (!Number.isNaN(maxAge)) process.env.POWERTOOLS_PARAMETERS_MAX_AGE = String(maxAge)
  else process.env.POWERTOOLS_PARAMETERS_MAX_AGE ??= '1'
  if (selection.endpoint) process.env.AWS_ENDPOINT_URL_SSM = selection.endpoint
  if (selection.region) process.env.AWS_REGION = selection.region
  const functionName =
    values['function-name'] ??
    basename(dirname(resolve(modulePath)).replace(/[/\\](lib|dist|build|src)$/, '')) ??
    'local'
  process.env.AWS_LAMBDA_FUNCTION_NAME ??= functionName
  process.env.AWS_LAMBDA_FUNCTION_VERSION ??= '$LATEST'
  process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ??= String(memoryMb)

  const exportName = values.export ?? 'handler'
  const handler = await loadHandler(modulePath, exportName)
  const server = await startServer({
    handler,
    port,
    host: values.host ?? '127.0.0.1',
    timeoutMs,
    functionName,
    memoryMb,
    ...(values.stage ? { stage: values.stage } : {}),
  })
  const store = createStore(selection)
  terminal.error(
    `middy-chaos serve: Listening on ${server.url} (handler ${modulePath}#${exportName}, timeout ${(timeoutMs / 1000).toFixed(2)} s, chaos config ${store.description}, cache ${process.env.POWERTOOLS_PARAMETERS_MAX_AGE} s)`,
  )
  try {
    const current = await store.read()
    if (current === undefined) {
      terminal.error(
        `middy-chaos serve: ${store.description} holds no config yet: no faults until "middy-chaos enable" or an experiment writes one`,
      )
    }
  } catch (error) {
    terminal.error(
      `middy-chaos serve: warning: ${describeError(error)} (the function runs without faults)`,
    )
  }
  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    const dispose = trapSignals((received) => {
      dispose()
      resolveSignal(received)
    })
  })
  await server.close()
  terminal.error(`middy-chaos serve: stopped (${signal})`)
  return 0
}

// ---------------------------------------------------------------------------
// experiment

const writeReport = async (
  path: string,
  experiment: Experiment,
  store: ConfigStore,
  session: SessionResult,
) => {
  await mkdir(dirname(resolve(path)), { recursive: true })
  await writeFile(
    path,
    `${JSON.stringify(
      {
        experiment: experiment.name,
        store: store.description,
        outcome: session.result.outcome,
        error: session.result.error,
        restore: session.result.restore,
        phases: session.phases,
        summary: session.rows,
        samples: session.samples,
      },
      null,
      2,
    )}\n`,
  )
}

/** Runs an experiment session with Ctrl-C handling: first signal interrupts, later ones wait for the restore. */
const runInterruptible = async (
  terminal: Terminal,
  run: (signal: AbortSignal) => Promise<SessionResult>,
): Promise<{ session: SessionResult; signal: NodeJS.Signals | undefined }> => {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const dispose = trapSignals((signal) => {
    if (received) {
      terminal.error('middy-chaos: restoring the parameter, please wait')
      return
    }
    received = signal
    terminal.error(`middy-chaos: ${signal}: stopping the experiment and restoring the parameter`)
    controller.abort()
  })
  try {
    const session = await run(controller.signal)
    return { session, signal: received }
  } finally {
    dispose()
  }
}

const sessionExitCode = (session: SessionResult, signal: NodeJS.Signals | undefined): number => {
  if (session.result.restore.action === 'failed') return 3
  if (session.result.outcome === 'failed') return 1
  if (session.result.outcome === 'interrupted') return signalExitCode(signal)
  return 0
}

const experimentCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') return help(terminal, 'experiment')
  if (sub !== 'run' && sub !== 'validate') {
    throw new UsageError(`experiment: unknown subcommand "${sub}" (use "run" or "validate")`)
  }
  const { values, positionals } = parse(rest, {
    ...STORE_OPTIONS,
    probe: { type: 'string' },
    interval: { type: 'string' },
    lead: { type: 'string' },
    tail: { type: 'string' },
    wait: { type: 'string' },
    'time-scale': { type: 'string' },
    report: { type: 'string' },
  })
  if (values.help) return help(terminal, 'experiment')
  const file = positionals[0]
  if (!file) throw new UsageError(`experiment ${sub}: which experiment file?`)
  const timeScale = numberOption('time-scale', values['time-scale'], 1, (n) => n >= 0)
  const waitMs = values.wait === undefined ? undefined : durationOption('wait', values.wait, 0)
  const experiment = adjustWaits(await loadExperiment(file), {
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
  const intervalMs = durationOption('interval', values.interval, 1000)
  if (values.probe) checkUrl(values.probe)
  const store = createStore(storeSelection(values), experiment.parameter)
  const { session, signal } = await runInterruptible(terminal, (abort) =>
    runSession({
      experiment,
      store,
      terminal,
      signal: abort,
      ...(values.probe ? { url: values.probe } : {}),
      intervalMs,
      leadMs: durationOption('lead', values.lead, 0),
      tailMs: durationOption('tail', values.tail, 0),
    }),
  )
  if (values.probe) terminal.line(`\n${formatSummary(session.rows, 'Probe summary per step')}`)
  if (values.report) await writeReport(values.report, experiment, store, session)
  const { result } = session
  if (result.outcome === 'failed') terminal.error(`middy-chaos: ${result.error}`)
  return sessionExitCode(session, signal)
}

// ---------------------------------------------------------------------------
// probe

const checkUrl = (text: string): URL => {
  try {
    const url = new URL(text)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
    return url
  } catch {
    throw new UsageError(`"${text}" is not an http(s) URL`)
  }
}

const probeCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values, positionals } = parse(args, {
    interval: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    timeout: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return help(terminal, 'probe')
  const target = positionals[0]
  if (!target) throw new UsageError('probe: which URL? (middy-chaos probe http://127.0.0.1:3000/)')
  checkUrl(target)
  const count = numberOption(
    'count',
    values.count,
    Number.POSITIVE_INFINITY,
    (n) => Number.isInteger(n) && n > 0,
  )
  const durationMs = durationOption('duration', values.duration, Number.POSITIVE_INFINITY)
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolveFinish) => {
    finish = resolveFinish
  })
  const probe = new Probe({
    url: target,
    intervalMs: durationOption('interval', values.interval, 1000),
    requestTimeoutMs: durationOption('timeout', values.timeout, 10_000),
    onSample: (sample) => {
      terminal.line(formatProbeLine(sample))
      if (probe.samples.length >= count) finish()
    },
  })
  const dispose = trapSignals(() => finish())
  const timer = Number.isFinite(durationMs) ? setTimeout(finish, durationMs) : undefined
  probe.start()
  await finished
  clearTimeout(timer)
  await probe.stop()
  dispose()
  terminal.line(`\n${formatSummary(summarise(probe.samples), 'Probe summary')}`)
  return 0
}

// ---------------------------------------------------------------------------
// status / enable / disable / set

const statusCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values } = parse(args, { ...STORE_OPTIONS, history: { type: 'boolean' } })
  if (values.help) return help(terminal)
  const store = createStore(storeSelection(values))
  const current = await store.read()
  terminal.line(`store    ${store.description}`)
  if (current === undefined) {
    terminal.line('value    (none: the parameter does not exist; no faults are injected)')
  } else {
    terminal.line(
      `version  ${current.version}${current.modifiedAt ? ` (${current.modifiedAt})` : ''}`,
    )
    terminal.line(`value    ${current.value}`)
    terminal.line(`faults   ${describeConfig(current.value)}`)
    for (const issue of validateConfig(current.value))
      terminal.line(`problem  ${issue.path}: ${issue.message}`)
  }
  if (values.history) {
    for (const entry of await store.history()) {
      terminal.line(
        `  v${entry.version} ${entry.modifiedAt ?? ''} ${entry.label ?? ''}: ${describeConfig(entry.value)}`,
      )
    }
  }
  return 0
}

const WORKSHOP_DEFAULTS = {
  delay: 400,
  error_code: 404,
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
}

const FAULT_TYPES = new Set(['latency', 'status_code', 'exception'])

const writeAndReport = async (
  store: ConfigStore,
  value: string,
  label: string,
  terminal: Terminal,
) => {
  const written = await store.write(value, { label })
  terminal.line(`${store.description} is now version ${written.version}: ${describeConfig(value)}`)
  terminal.line(value)
  return 0
}

const parseStored = (value: string | undefined): Record<string, unknown> | undefined => {
  if (value === undefined) return undefined
  try {
    const parsed = JSON.parse(value) as unknown
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

const enableCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values, positionals } = parse(args, {
    ...STORE_OPTIONS,
    delay: { type: 'string' },
    'error-code': { type: 'string' },
    message: { type: 'string' },
    rate: { type: 'string' },
  })
  if (values.help) return help(terminal)
  const store = createStore(storeSelection(values))
  const current = parseStored((await store.read())?.value)
  const requested = positionals[0]?.replace(/-/g, '_')
  if (requested === undefined) {
    // Re-enable what is there.
    if (current && 'is_enabled' in current && typeof current.fault_type === 'string') {
      return writeAndReport(
        store,
        JSON.stringify({ ...current, is_enabled: true }),
        'cli: enable',
        terminal,
      )
    }
    if (current && Array.isArray(current.faults)) {
      return writeAndReport(
        store,
        JSON.stringify({ ...current, enabled: true }),
        'cli: enable',
        terminal,
      )
    }
    throw new UsageError('enable: which fault? (latency, status_code or exception)')
  }
  if (!FAULT_TYPES.has(requested)) {
    throw new UsageError(
      `enable: unknown fault "${positionals[0]}" (use latency, status_code or exception)`,
    )
  }
  const base =
    current && 'is_enabled' in current ? { ...WORKSHOP_DEFAULTS, ...current } : WORKSHOP_DEFAULTS
  const value = {
    ...base,
    is_enabled: true,
    fault_type: requested,
    ...(values.delay === undefined
      ? {}
      : { delay: numberOption('delay', values.delay, 0, (n) => Number.isInteger(n) && n >= 0) }),
    ...(values['error-code'] === undefined
      ? {}
      : {
          error_code: numberOption(
            'error-code',
            values['error-code'],
            0,
            (n) => Number.isInteger(n) && n >= 100 && n <= 599,
          ),
        }),
    ...(values.message === undefined ? {} : { exception_msg: values.message }),
    ...(values.rate === undefined
      ? {}
      : { rate: numberOption('rate', values.rate, 1, (n) => n >= 0 && n <= 1) }),
  }
  const ordered = {
    is_enabled: value.is_enabled,
    fault_type: value.fault_type,
    delay: value.delay,
    error_code: value.error_code,
    exception_msg: value.exception_msg,
    rate: value.rate,
  }
  return writeAndReport(store, JSON.stringify(ordered), `cli: enable ${requested}`, terminal)
}

const disableCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values } = parse(args, STORE_OPTIONS)
  if (values.help) return help(terminal)
  const store = createStore(storeSelection(values))
  const stored = await store.read()
  if (stored === undefined) {
    terminal.line(`${store.description} does not exist: no faults are injected; nothing to disable`)
    return 0
  }
  const current = parseStored(stored.value)
  // Keep the fault settings (as the workshop's S07_DisableFaults does); only switch them off.
  const value: Record<string, unknown> =
    current && Array.isArray(current.faults)
      ? { ...current, enabled: false }
      : { is_enabled: false, ...WORKSHOP_DEFAULTS, fault_type: 'latency', ...current }
  if (!Array.isArray(current?.faults)) value.is_enabled = false
  return writeAndReport(store, JSON.stringify(value), 'cli: disable', terminal)
}

const setCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values, positionals } = parse(args, {
    ...STORE_OPTIONS,
    file: { type: 'string' },
    force: { type: 'boolean' },
  })
  if (values.help) return help(terminal)
  let value = positionals[0]
  if (values.file) {
    try {
      value = await readFile(values.file, 'utf8')
    } catch (error) {
      throw new CliError(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `config file not found: ${values.file}`
          : `cannot read ${values.file}: ${describeError(error)}`,
      )
    }
  }
  if (value === undefined)
    throw new UsageError(
      'set: which value? (middy-chaos set \'{"is_enabled":false}\' or --file config.json)',
    )
  const issues = validateConfig(value)
  if (issues.length > 0 && !values.force) {
    throw new CliError(
      `invalid chaos config: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')} (nothing written; --force writes it anyway)`,
    )
  }
  return writeAndReport(store(values), value.trim(), 'cli: set', terminal)
}

const store = (values: Record<string, unknown>) => createStore(storeSelection(values))

// ---------------------------------------------------------------------------
// demo

const DEMO_OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'

/** Starts `middy-chaos serve` as a child process; resolves with its URL once it listens. */
const spawnServe = async (
  args: string[],
  logPath: string,
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> => {
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url))
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

const demoCommand = async (args: string[], terminal: Terminal): Promise<number> => {
  const { values } = parse(args, {
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
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return help(terminal, 'demo')
  const handlerPath = values.handler ?? 'examples/hello-world/lib/index.js'
  const experimentPath = values.experiment ?? 'examples/hello-world/experiments/workshop.json'
  const param = values.param ?? '.chaos/demo.json'
  const port = numberOption(
    'port',
    values.port,
    0,
    (n) => Number.isInteger(n) && n >= 0 && n < 65536,
  )
  const maxAge = numberOption('max-age', values['max-age'], 1, (n) => n >= 0)
  const waitMs = durationOption('wait', values.wait, 4000)
  const experiment = adjustWaits(await loadExperiment(experimentPath), { waitMs })
  const demoStore = createStore({ store: 'file', param })
  const logPath = resolve(dirname(resolve(param)), 'demo-serve.log')

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
      `Serving ${handlerPath} at ${server.url} as API Gateway would (function logs: ${logPath})`,
    )
    terminal.line(
      `Probing it every ${formatDuration(durationOption('interval', values.interval, 300))}: BODY - STATUS - SECONDS\n`,
    )
    const { session, signal } = await runInterruptible(terminal, (abort) =>
      runSession({
        experiment,
        store: demoStore,
        terminal,
        signal: abort,
        url: server.url,
        intervalMs: durationOption('interval', values.interval, 300),
        leadMs: durationOption('lead', values.lead, 3000),
        tailMs: durationOption('tail', values.tail, 3000),
      }),
    )
    terminal.line(`\n${formatSummary(session.rows, 'Probe summary per step')}`)
    terminal.line(
      `(the function caches its chaos config for ${maxAge} s, so the first requests of a step may still show the previous one)`,
    )
    if (values.report) await writeReport(values.report, experiment, demoStore, session)
    if (session.result.outcome === 'failed') terminal.error(`middy-chaos: ${session.result.error}`)
    return sessionExitCode(session, signal)
  } finally {
    await server.stop()
  }
}

// ---------------------------------------------------------------------------

const help = (terminal: Terminal, command?: string): number => {
  terminal.line((command && COMMAND_HELP[command]) || HELP)
  return 0
}

const COMMANDS: Record<string, (args: string[], terminal: Terminal) => Promise<number>> = {
  serve: serveCommand,
  experiment: experimentCommand,
  probe: probeCommand,
  status: statusCommand,
  enable: enableCommand,
  disable: disableCommand,
  set: setCommand,
  demo: demoCommand,
}

/**
 * Runs the `middy-chaos` command line and resolves with the exit code. User
 * mistakes end with one line on stderr, never a stack trace.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['status', '--store', 'file'])
 * ```
 */
export const main = async (argv: string[], terminal = new Terminal()): Promise<number> => {
  const [command, ...args] = argv
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      return help(terminal, args[0])
    }
    if (command === '--version' || command === '-v') {
      terminal.line(VERSION)
      return 0
    }
    const run = COMMANDS[command]
    if (!run) throw new UsageError(`unknown command "${command}" (run middy-chaos --help)`)
    return await run(args, terminal)
  } catch (error) {
    if (error instanceof CliError) {
      terminal.error(`middy-chaos: ${error.message}`)
      return error.exitCode
    }
    terminal.error(`middy-chaos: unexpected error: ${describeError(error)}`)
    if (process.env.MIDDY_CHAOS_DEBUG) terminal.error(String((error as Error)?.stack ?? error))
    return 1
  }
}
