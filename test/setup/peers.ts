/**
 * Vitest global setup: starts the real protocol peers the integration tests talk to,
 * on free loopback ports, and hands their endpoints to the tests with `provide`.
 *
 * - moto_server (SSM Parameter Store, Secrets Manager, CloudWatch alarms), from the Python
 *   that has `moto[server]`; when none has it, the setup installs it once into
 *   `.tmp/moto-venv` (ignored by git). Set MOTO_ENDPOINT to reuse a server that is
 *   already running, PYTHON to choose the interpreter.
 * - dynalite (DynamoDB), in process.
 * - cfn-lint (PyPI), for the CloudFormation templates the packages generate: the one on
 *   PATH, or one installed once into `.tmp/cfn-lint-venv`. Set CFN_LINT to choose the
 *   executable.
 * - checkov (PyPI), the policy checks run on the same templates: the pinned version in
 *   `.tmp/checkov-venv`, installed there once (a few minutes), or CHECKOV to choose the
 *   executable. The findings depend on its version, so one on PATH is not used.
 * - Chromium, for the test that opens an HTML report: Debian's `chromium` at
 *   /usr/bin/chromium (CHROMIUM_PATH to choose another), installed with apt-get when it
 *   is missing and the setup may (as root, or with password-less sudo); otherwise a
 *   message says what to run, and that test fails with it.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string
    dynamoEndpoint: string
    /** The Python that runs moto_server: it has boto3 (for the runbook handlers' tests). */
    motoPython: string
    /** The cfn-lint executable. */
    cfnLint: string
    /** The checkov executable. */
    checkov: string
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })

const waitForHttp = async (
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> => {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with code ${child.exitCode}\n${output()}`)
    }
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`moto_server did not answer on ${url} within 30 s\n${output()}`)
}

/** The moto version installed into `.tmp/moto-venv` when no Python on the machine has moto. */
const MOTO_VERSION = '5.2.5'
const root = fileURLToPath(new URL('../..', import.meta.url))
const venv = join(root, '.tmp', 'moto-venv')

const hasMoto = (python: string): boolean => {
  try {
    execFileSync(python, ['-c', 'import moto.server, flask, flask_cors'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A Python that can run moto_server: the machine's, or a virtual environment made for the tests. */
const motoPython = (): string => {
  const python = process.env.PYTHON ?? 'python3'
  const local = join(venv, 'bin', 'python')
  if (existsSync(local) && hasMoto(local)) return local
  try {
    execFileSync(python, ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error(
      `The integration tests need moto_server, which runs on Python 3, and "${python}" was not found. Install Python 3 (with venv and pip), set PYTHON to its path, or set MOTO_ENDPOINT to a running moto_server.`,
    )
  }
  if (hasMoto(python)) return python
  process.stderr.write(
    `test setup: installing moto[server]==${MOTO_VERSION} into ${venv} (first run only)\n`,
  )
  try {
    if (!existsSync(local)) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' })
    execFileSync(
      local,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `moto[server]==${MOTO_VERSION}`,
      ],
      { stdio: 'inherit' },
    )
  } catch (error) {
    throw new Error(
      `Could not install moto[server] into ${venv} (${(error as Error).message}). Install it yourself with: ${python} -m pip install "moto[server]", or set MOTO_ENDPOINT to a running moto_server.`,
    )
  }
  return local
}

const startMoto = async (): Promise<{ endpoint: string; python: string; stop: () => void }> => {
  if (process.env.MOTO_ENDPOINT)
    return {
      endpoint: process.env.MOTO_ENDPOINT,
      python: process.env.PYTHON ?? 'python3',
      stop: () => {},
    }
  const python = motoPython()
  const port = await freePort()
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output = (output + chunk).slice(-4000)
  })
  child.stderr?.on('data', (chunk) => {
    output = (output + chunk).slice(-4000)
  })
  child.on('error', (error) => {
    output += `\n${error.message}`
  })
  const endpoint = `http://127.0.0.1:${port}`
  await waitForHttp(`${endpoint}/moto-api/`, child, () => output)
  return { endpoint, python, stop: () => child.kill('SIGTERM') }
}

const run = promisify(execFile)

const works = async (executable: string): Promise<string | undefined> => {
  try {
    const { stdout } = await run(executable, ['--version'], { timeout: 60_000 })
    return stdout.trim()
  } catch {
    return undefined
  }
}

const onPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** A command-line tool from PyPI that the tests run, and where it may come from. */
interface PipTool {
  /** Its executable, and its package on PyPI. */
  readonly name: string
  /** The version installed into its virtual environment. */
  readonly version: string
  /** The environment variable naming an executable to use instead. */
  readonly env: string
  /** Whether the one on PATH will do (its findings do not depend on its version). */
  readonly fromPath: boolean
}

/** The tool: its variable, its `.tmp/<name>-venv`, PATH when allowed, or installed into that venv once. */
const findPipTool = async (tool: PipTool): Promise<string> => {
  const venv = join(root, '.tmp', `${tool.name}-venv`)
  const local = join(venv, 'bin', tool.name)
  const localWorks = async () => (await works(local))?.includes(tool.version) === true
  if (process.env[tool.env] && (await works(process.env[tool.env] ?? ''))) {
    return process.env[tool.env] ?? ''
  }
  if (await localWorks()) return local
  const path = tool.fromPath ? onPath(tool.name) : undefined
  if (path && (await works(path))) return path
  const python = process.env.PYTHON ?? 'python3'
  process.stderr.write(
    `test setup: installing ${tool.name}==${tool.version} into ${venv} (first run only)\n`,
  )
  try {
    if (!existsSync(join(venv, 'bin', 'python'))) await run(python, ['-m', 'venv', venv])
    await run(
      join(venv, 'bin', 'python'),
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `${tool.name}==${tool.version}`,
      ],
      { timeout: 900_000 },
    )
  } catch (error) {
    throw new Error(
      `Could not install ${tool.name} into ${venv} (${(error as Error).message}). Install it yourself (pip install ${tool.name}==${tool.version}) or set ${tool.env} to its path.`,
    )
  }
  if (!(await localWorks())) throw new Error(`${local} does not run after its installation`)
  return local
}

/** cfn-lint: CFN_LINT, the one in `.tmp/cfn-lint-venv`, the one on PATH, or installed there once. */
const findCfnLint = (): Promise<string> =>
  findPipTool({ name: 'cfn-lint', version: '1.58.0', env: 'CFN_LINT', fromPath: true })

/** checkov: CHECKOV, or the pinned version in `.tmp/checkov-venv`, installed there once. */
const findCheckov = (): Promise<string> =>
  findPipTool({ name: 'checkov', version: CHECKOV_VERSION, env: 'CHECKOV', fromPath: false })

/** The checkov version the tests' findings and skips were written against. */
const CHECKOV_VERSION = '3.3.30'

const startDynalite = async (): Promise<{ endpoint: string; stop: () => Promise<void> }> => {
  const { default: dynalite } = await import('dynalite')
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Debian's chromium, installed with apt-get when missing and allowed; never throws. */
const ensureChromium = async (): Promise<void> => {
  if (existsSync(CHROMIUM)) return
  const asRoot = process.getuid?.() === 0
  let sudo = false
  if (!asRoot) {
    try {
      await run('sudo', ['-n', 'true'], { timeout: 10_000 })
      sudo = true
    } catch {
      // no password-less sudo
    }
  }
  const hint = `The HTML report's test needs Chromium at ${CHROMIUM}: run "sudo apt-get install chromium" (Debian, Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome executable.`
  if (process.env.CHROMIUM_PATH !== undefined || !onPath('apt-get') || !(asRoot || sudo)) {
    process.stderr.write(`test setup: ${hint}\n`)
    return
  }
  process.stderr.write("test setup: installing Debian's chromium with apt-get (first run only)\n")
  const apt = (args: string[]) =>
    asRoot
      ? run('apt-get', args, {
          timeout: 900_000,
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        })
      : run('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], {
          timeout: 900_000,
        })
  try {
    await apt(['update'])
    await apt(['install', '-y', '--no-install-recommends', 'chromium'])
  } catch (error) {
    process.stderr.write(
      `test setup: apt-get could not install chromium (${(error as Error).message.split('\n')[0]}). ${hint}\n`,
    )
  }
}

export default async function setup(project: TestProject) {
  // cfn-lint, checkov and Chromium first: their installation (first run only) goes on while moto starts.
  const cfnLint = findCfnLint()
  cfnLint.catch(() => undefined) // awaited below, after moto and dynalite
  const checkov = findCheckov()
  checkov.catch(() => undefined)
  const chromium = ensureChromium()
  const [moto, dynamo] = await Promise.all([startMoto(), startDynalite()])
  await chromium
  project.provide('motoEndpoint', moto.endpoint)
  project.provide('motoPython', moto.python)
  project.provide('dynamoEndpoint', dynamo.endpoint)
  project.provide('cfnLint', await cfnLint)
  project.provide('checkov', await checkov)
  return async () => {
    moto.stop()
    await dynamo.stop()
  }
}
