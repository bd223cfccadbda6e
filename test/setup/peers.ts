/**
 * Vitest global setup: starts the real protocol peers the integration tests talk to,
 * on free loopback ports, and hands their endpoints to the tests with `provide`.
 *
 * - moto_server (SSM Parameter Store, Secrets Manager): `pip install "moto[server]"`.
 *   Set MOTO_ENDPOINT to reuse a server that is already running.
 * - dynalite (DynamoDB), in process.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
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
      throw new Error(
        `moto_server exited with code ${child.exitCode}. Install it with: pip install "moto[server]"\n${output()}`,
      )
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

const startMoto = async (): Promise<{ endpoint: string; stop: () => void }> => {
  if (process.env.MOTO_ENDPOINT) return { endpoint: process.env.MOTO_ENDPOINT, stop: () => {} }
  const port = await freePort()
  const python = process.env.PYTHON ?? 'python3'
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
