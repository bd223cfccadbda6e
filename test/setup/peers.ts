/**
 * Vitest global setup: starts the real protocol peers the integration tests talk to,
 * on free loopback ports, and hands their endpoints to the tests with `provide`.
 *
 * - moto_server (SSM Parameter Store, Secrets Manager, CloudWatch alarms), from the Python
 *   that has `moto[server]`; when none has it, the setup installs it once into
 *   `.tmp/moto-venv` (ignored by git). Set MOTO_ENDPOINT to reuse a server that is
 *   already running, PYTHON to choose the interpreter.
 * - dynalite (DynamoDB), in process.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string
    dynamoEndpoint: string
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

const startMoto = async (): Promise<{ endpoint: string; stop: () => void }> => {
  if (process.env.MOTO_ENDPOINT) return { endpoint: process.env.MOTO_ENDPOINT, stop: () => {} }
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
  return { endpoint, stop: () => child.kill('SIGTERM') }
}

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

export default async function setup(project: TestProject) {
  const [moto, dynamo] = await Promise.all([startMoto(), startDynalite()])
  project.provide('motoEndpoint', moto.endpoint)
  project.provide('dynamoEndpoint', dynamo.endpoint)
  return async () => {
    moto.stop()
    await dynamo.stop()
  }
}
