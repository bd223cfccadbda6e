import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type MainOptions, main } from '../src/main.js'
import { Terminal } from '../src/terminal.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const cliBin = join(repoRoot, 'packages/cli/lib/bin.js')
export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

const newest = (dir: string): number =>
  Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
    ),
  )

/**
 * Tests that run the CLI as a process (signals, exit codes) use its build, as
 * a user's shell would: `pnpm build` first (CI builds before testing).
 */
export const assertCliBuilt = (): void => {
  if (!existsSync(cliBin)) {
    throw new Error(`${cliBin} is missing: run "pnpm build" before these tests`)
  }
  const src = join(repoRoot, 'packages/cli/src')
  // The newest output, not bin.js: a compiler leaves an output that did not change as it was.
  if (newest(join(repoRoot, 'packages/cli/lib')) + 1000 < newest(src)) {
    throw new Error('packages/cli/lib is older than packages/cli/src: run "pnpm build" first')
  }
}

export interface CliProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves once stdout+stderr match, rejects if the process exits first or after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `middy-chaos <args>` with Node 24 as a child process (`script`: a
 * fixture that runs the built CLI in its own way).
 */
export const startCli = (
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; script?: string } = {},
): CliProcess => {
  const child = spawn(process.execPath, [options.script ?? cliBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, POWERTOOLS_DEV: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const listeners = new Set<() => void>()
  child.stdout?.on('data', (chunk) => {
    out += chunk
    for (const listener of listeners) listener()
  })
  child.stderr?.on('data', (chunk) => {
    err += chunk
    for (const listener of listeners) listener()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const waitFor = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out + err)
        if (match) {
          cleanup()
          resolve(match)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${pattern}\nstdout: ${out}\nstderr: ${err}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        listeners.delete(check)
      }
      listeners.add(check)
      void exited.then(() => {
        check()
        if (listeners.has(check)) {
          cleanup()
          reject(new Error(`process exited before ${pattern}\nstdout: ${out}\nstderr: ${err}`))
        }
      })
      check()
    })
  return { child, stdout: () => out, stderr: () => err, waitFor, exited }
}

/** Runs `middy-chaos <args>` to the end. */
export const runCli = async (
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
) => {
  const cli = startCli(args, options)
  const { code } = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

/** A {@link Terminal} that keeps what it prints, for commands run in-process with `main`. */
export const captureTerminal = () => {
  let out = ''
  let err = ''
  const terminal = new Terminal(
    { write: (text: string) => (out += text) },
    { write: (text: string) => (err += text) },
  )
  return { terminal, stdout: () => out, stderr: () => err }
}

/** Runs `middy-chaos <args>` in this process and returns its exit code and output. */
export const runMain = async (args: string[], options: MainOptions = {}) => {
  const { terminal, stdout, stderr } = captureTerminal()
  const code = await main(args, terminal, options)
  return { code, stdout: stdout(), stderr: stderr() }
}

/**
 * `experiment export`s an experiment file into `dir` as the local FIS player
 * plays it: the runbook as `<document>.json`, and the FIS template (`fis-json`,
 * documents' parameter `parameter`) whose action runs it. Resolves with both
 * paths once both exports exited 0.
 */
export const exportForPlayer = async (
  file: string,
  dir: string,
  document: string,
  parameter: string,
): Promise<{ template: string; document: string }> => {
  const paths = { template: join(dir, 'template.json'), document: join(dir, `${document}.json`) }
  const runs = await Promise.all([
    runMain(['experiment', 'export', file, '--to', 'runbook', '--out', paths.document]),
    runMain([
      'experiment',
      'export',
      file,
      '--to',
      'fis-json',
      '--param',
      parameter,
      '--document-arn',
      `arn:aws:ssm:us-east-1:123456789012:document/${document}`,
      '--automation-role-arn',
      'arn:aws:iam::123456789012:role/middy-chaos-automation',
      '--fis-role-arn',
      'arn:aws:iam::123456789012:role/middy-chaos-fis',
      '--log-group-arn',
      'arn:aws:logs:us-east-1:123456789012:log-group:/middy-chaos/experiments:*',
      '--out',
      paths.template,
    ]),
  ])
  for (const run of runs) if (run.code !== 0) throw new Error(`export failed: ${run.stderr}`)
  return paths
}

/**
 * The workshop's function (`fixtures/chaos-handler.mjs`) behind `middy-chaos
 * serve` on a free port, with `args` (store, `--max-age`, …): its URL, and
 * `stop()`, which ends the server.
 */
export const serveFixture = async (
  args: string[],
  options: { env?: Record<string, string | undefined> } = {},
) => {
  const server = startCli(
    ['serve', join(fixtures, 'chaos-handler.mjs'), '--port', '0', ...args],
    options,
  )
  const [, url] = (await server.waitFor(/Listening on (http:\/\/\S+)/)) as unknown as [
    string,
    string,
  ]
  return {
    url,
    stop: async () => {
      server.child.kill('SIGTERM')
      await server.exited
    },
  }
}
