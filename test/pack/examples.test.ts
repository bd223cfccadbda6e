/**
 * The packed CLI on the example experiments (examples/hello-world/experiments)
 * prints what a recorded run printed, with the same exit codes and report:
 * `experiment validate`, `experiment export` to each target, `experiment run`
 * with `--probe` against `serve` of the hello-world function, and a FIS
 * template played with `--fis-template`. What differs from run to run (times,
 * ids, ports, latencies, how many requests the probe sent) is normalised out
 * of both; the rest must be equal, character for character.
 *
 * `RECORD_EXAMPLES=1 pnpm vitest run test/pack/examples.test.ts` writes the
 * recording (test/fixtures/examples-run.json) anew (then `pnpm format`). Needs `pnpm build`
 * first.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installPacked, type PackedProject, repoRoot } from './install.js'

const RECORDING = join(repoRoot, 'test', 'fixtures', 'examples-run.json')
const EXPERIMENTS = join(repoRoot, 'examples', 'hello-world', 'experiments')
const HANDLER = join(repoRoot, 'examples', 'hello-world', 'lib', 'index.js')
const FIS_FIXTURES = join(repoRoot, 'packages', 'fis', 'tests', 'fixtures', 'fis')
const EXAMPLES = ['latency-slo', 'outage-hidden', 'workshop']
/** Outputs longer than this are recorded by their hash (exports: whole templates). */
const LONGEST_RECORDED = 4000

interface Recorded {
  exitCode: number | null
  stdout: string
  stderr: string
  report?: unknown
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** The parts of a printed run that change from run to run, replaced by placeholders. */
const normalise = (text: string, workDir: string, port: number): string => {
  const lines = text
    .replaceAll(workDir, '<work>')
    .replaceAll(repoRoot.replace(/\/$/, ''), '<repo>')
    .replaceAll(String(port), '<port>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<date>')
    .replace(/\[\d\d:\d\d\.\d\]/g, '[<t>]')
    .replace(/(after|in) \d+(\.\d+)?m?s\b/g, '$1 <d>')
    .split('\n')
  const out: string[] = []
  let inTable = false
  for (const line of lines) {
    if (/^Probe summary per step: \d+ requests/.test(line)) {
      out.push('Probe summary per step: <n> requests')
      inTable = true
      continue
    }
    if (inTable) {
      // The table's rows count requests and latencies, and a request can fall in a step that
      // only sets a value: only its header is compared.
      if (/^step\s/.test(line)) out.push(line.replace(/\s+/g, ' '))
      if (line.trim() === '' || /^(Report|Results|Expectations):/.test(line)) inTable = false
      else continue
    }
    // A verdict: what it judged is compared, what it measured only by its shape.
    const verdict = /^(\s+[✔✖] [^:]+: )(.*)$/.exec(line)
    if (verdict) {
      out.push(`${verdict[1]}${(verdict[2] ?? '').replace(/\d+(\.\d+)?/g, 'N')}`)
      continue
    }
    // The probe's line per request: how many there are, and where they fall between the
    // runner's lines, depends on timing (the report's verdicts say what they measured).
    if (/^.* - \d{3} - \d+(\.\d+)?$/.test(line)) continue
    out.push(line.replace(/\(\d+ requests\)/g, '(N requests)'))
  }
  return out.join('\n')
}

/** What a JSON report says that does not depend on timing. */
const reportDigest = (report: Record<string, unknown>, workDir: string, port: number) => {
  const text = (value: unknown) => normalise(JSON.stringify(value), workDir, port)
  const events = (report.events as Record<string, unknown>[]).map((event) => {
    const { atMs: _atMs, ...rest } = event
    return text(rest)
  })
  return {
    keys: Object.keys(report),
    experiment: report.experiment,
    store: text(report.store),
    outcome: report.outcome,
    exitCode: report.exitCode,
    lease: Object.keys((report.lease as object | undefined) ?? {}),
    restore: text(report.restore),
    phases: (report.phases as { name: string; config: string }[]).map(
      ({ name, config }) => `${name}: ${config}`,
    ),
    expectations: (
      report.expectations as {
        scope: string
        name?: string
        verdicts: { expectation: string; held: boolean }[]
      }[]
    ).map(({ scope, name, verdicts }) => ({
      scope,
      name,
      verdicts: verdicts.map(({ expectation, held }) => `${held ? '✔' : '✖'} ${expectation}`),
    })),
    events,
  }
}

describe('the packed CLI on the example experiments', () => {
  let project: PackedProject
  let workDir: string
  let bin: string
  let server: ChildProcess | undefined
  let port = 0
  const runs: Record<string, Recorded> = {}

  const cli = (args: string[]) =>
    new Promise<{ exitCode: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [bin, ...args],
        { cwd: workDir, env: { ...process.env, CHAOS_STORE: '', CHAOS_PARAM: '', NO_COLOR: '1' } },
        (error, stdout, stderr) => {
          const code = error ? (error as { code?: number | string }).code : 0
          resolve({ exitCode: typeof code === 'number' ? code : null, stdout, stderr })
        },
      )
    })

  const record = async (name: string, args: string[], report?: string) => {
    const { exitCode, stdout, stderr } = await cli(args)
    const shown = (text: string) => {
      const normalised = normalise(text, workDir, port)
      return normalised.length > LONGEST_RECORDED
        ? `sha256:${sha256(normalised)} (${normalised.length} characters)`
        : normalised
    }
    runs[name] = { exitCode, stdout: shown(stdout), stderr: shown(stderr) }
    if (report && existsSync(join(workDir, report))) {
      const json = JSON.parse(await readFile(join(workDir, report), 'utf8'))
      runs[name].report = reportDigest(json, workDir, port)
    }
  }

  beforeAll(async () => {
    if (!existsSync(HANDLER)) throw new Error(`${HANDLER} is missing: run pnpm build first`)
    project = await installPacked(['cli'])
    bin = join(project.dir, 'node_modules', '@middy-chaos', 'cli', 'lib', 'bin.js')
    workDir = join(project.dir, 'work')
    await mkdir(workDir)
    const child = spawn(
      process.execPath,
      [bin, 'serve', HANDLER, '--port', '0', '--store', 'file', '--param', 'config.json'],
      { cwd: workDir, env: { ...process.env, CHAOS_STORE: '', CHAOS_PARAM: '' } },
    )
    server = child
    child.stdout?.resume()
    port = await new Promise<number>((resolve, reject) => {
      let seen = ''
      child.stderr?.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        const match = /Listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(seen)
        if (match) resolve(Number(match[1]))
      })
      child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${seen}`)))
    })
    for (const example of EXAMPLES) {
      const file = join(EXPERIMENTS, `${example}.json`)
      await record(`validate ${example}`, ['experiment', 'validate', file])
      await record(`export ${example} --to runbook`, [
        'experiment',
        'export',
        file,
        '--to',
        'runbook',
      ])
      await record(`export ${example} --to cloudformation`, [
        'experiment',
        'export',
        file,
        '--to',
        'cloudformation',
        '--param',
        '/middy-chaos/hello-world/config',
      ])
      await record(`export ${example} --to fis-json`, [
        'experiment',
        'export',
        file,
        '--to',
        'fis-json',
        '--param',
        '/middy-chaos/hello-world/config',
        '--document-arn',
        'arn:aws:ssm:us-east-1:123456789012:document/Runbook',
        '--automation-role-arn',
        'arn:aws:iam::123456789012:role/Automation',
        '--fis-role-arn',
        'arn:aws:iam::123456789012:role/Fis',
        '--log-group-arn',
        'arn:aws:logs:us-east-1:123456789012:log-group:/fis',
      ])
      await record(
        `run ${example} --probe`,
        [
          'experiment',
          'run',
          file,
          '--probe',
          `http://127.0.0.1:${port}/`,
          '--interval',
          '100ms',
          // serve reads the store on every request (its default cache window, 0, which it
          // announces: no settling time); the workshop judges nothing.
          '--wait',
          example === 'workshop' ? '1s' : '5s',
          '--store',
          'file',
          '--param',
          'config.json',
          '--report',
          `${example}-report.json`,
        ],
        `${example}-report.json`,
      )
    }
    await record('run --fis-template (the FIS workshop)', [
      'experiment',
      'run',
      '--fis-template',
      join(FIS_FIXTURES, 'workshop-template.json'),
      '--document',
      join(FIS_FIXTURES, 'FisWorkshopPutParameterShim.yaml'),
      '--wait',
      '100ms',
      '--store',
      'file',
      '--param',
      'workshop.json',
    ])
    await record('validate a file that is not there', ['experiment', 'validate', 'missing.json'])
    await record('run with an unknown option', [
      'experiment',
      'run',
      join(EXPERIMENTS, 'workshop.json'),
      '--no-such-option',
    ])
  }, 180_000)

  afterAll(async () => {
    server?.kill('SIGTERM')
    if (project) await rm(project.dir, { recursive: true, force: true })
  })

  it('prints what the recorded run printed, with its exit codes and reports', async () => {
    if (process.env.RECORD_EXAMPLES) {
      await writeFile(RECORDING, `${JSON.stringify(runs, null, 2)}\n`)
    }
    const recorded = JSON.parse(await readFile(RECORDING, 'utf8')) as Record<string, Recorded>
    expect(Object.keys(runs)).toEqual(Object.keys(recorded))
    for (const [name, run] of Object.entries(recorded)) {
      expect({ name, ...runs[name] }).toEqual({ name, ...run })
    }
  })

  it('runs every example to the exit code its description announces', () => {
    expect(runs['run latency-slo --probe']?.exitCode).toBe(0)
    expect(runs['run outage-hidden --probe']?.exitCode).toBe(6)
    expect(runs['run workshop --probe']?.exitCode).toBe(0)
  })
})
