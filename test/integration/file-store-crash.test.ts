/**
 * kill -9 during file-store writes: whatever instant a writer dies at, the
 * value in force and the history agree, versions are 1..n without gaps, and
 * the next writer takes the dead writer's lock over and writes version n+1.
 *
 * The writers are child processes running test/fixtures/file-store-writer.mjs,
 * which imports the TypeScript source (type stripping, no build needed).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type FileStoreVersion,
  readFileHistory,
  readFileValue,
  writeFileValue,
} from '../../packages/core/src/file-store.js'

const WRITER = fileURLToPath(new URL('../fixtures/file-store-writer.mjs', import.meta.url))
/** Node 22.6–22.17 strips types only when asked; later versions by default. */
const NODE_FLAGS = process.features.typescript ? [] : ['--experimental-strip-types']

const KILLS = 100
/** Independent stores killed in parallel, to keep the 100 kills within seconds. */
const LANES = 4

interface Writer {
  child: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

/** Starts a writer and resolves once its loop runs. */
const startWriter = async (path: string, id: string, lockTimeoutMs: number): Promise<Writer> => {
  const child = spawn(process.execPath, [...NODE_FLAGS, WRITER, path, id, String(lockTimeoutMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Compiled code cached across the children: a start takes 60 ms instead of 250.
    env: { ...process.env, NODE_COMPILE_CACHE: join(dir, 'node-compile-cache') },
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<Awaited<Writer['exited']>>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }))
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve()
    })
    void exited.then(({ code, stderr }) => reject(new Error(`writer exited (${code}): ${stderr}`)))
  })
  return { child, exited }
}

/** kill -9, then waits until the process is gone; fails if it had died on its own. */
const kill9 = async (writer: Writer) => {
  writer.child.kill('SIGKILL')
  const { signal, stderr } = await writer.exited
  expect(signal, stderr).toBe('SIGKILL')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The invariant: the value in force is the last history entry's; versions 1..n. */
const expectConsistent = async (path: string): Promise<FileStoreVersion[]> => {
  const history = await readFileHistory(path)
  expect(history.map((entry) => entry.version)).toEqual(history.map((_, index) => index + 1))
  const last = history.at(-1)
  if (last === undefined || last.removed) {
    await expect(readFileValue(path)).rejects.toMatchObject({ code: 'ENOENT' })
  } else {
    expect(await readFileValue(path)).toBe(last.value)
  }
  return history
}

/**
 * Reads the store while the writers run: every history seen is gapless, every
 * value seen is one a writer wrote in full.
 */
const readWhileWriting = async (path: string, ms: number) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const [history, value] = await Promise.all([
      readFileHistory(path),
      readFileValue(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined
        throw error
      }),
    ])
    expect(history.map((entry) => entry.version)).toEqual(history.map((_, index) => index + 1))
    if (value !== undefined) expect(JSON.parse(value)).toHaveProperty('writer')
  }
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-store-crash-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('file store, writer killed with SIGKILL', () => {
  it('keeps the value and its history in agreement over 100 kills at random moments', async () => {
    // Prepare
    let killedHoldingLock = 0
    let killedAfterACommit = 0
    const lane = async (name: string, kills: number) => {
      const path = join(dir, name, 'config.json')
      await writeFileValue(path, '{"seed":true}', { label: 'seed' })
      for (let kill = 0; kill < kills; kill++) {
        // Act: a short lock timeout, so that each writer soon takes the dead one's lock over
        const id = `${name}-${kill}`
        const writer = await startWriter(path, id, 20)
        await sleep(Math.random() * 150)
        await kill9(writer)
        if (existsSync(`${path}.lock`)) killedHoldingLock++

        // Assess
        const history = await expectConsistent(path)
        if (history.some((entry) => entry.label?.startsWith(`${id}#`))) killedAfterACommit++
      }
      const before = await expectConsistent(path)
      const after = await writeFileValue(path, '{"after":true}', { lockTimeoutMs: 20 })
      expect(after.version).toBe(before.length + 1)
      expect((await expectConsistent(path)).at(-1)).toEqual(after)
    }

    await Promise.all(
      Array.from({ length: LANES }, (_, index) => lane(`lane-${index}`, KILLS / LANES)),
    )

    // Assess: many kills landed inside a write, many after the writer had committed some
    expect(killedHoldingLock).toBeGreaterThanOrEqual(KILLS / 5)
    expect(killedAfterACommit).toBeGreaterThanOrEqual(KILLS / 5)
  }, 60_000)

  it('keeps them in agreement with two writers at once, both killed', async () => {
    // Prepare
    const path = join(dir, 'two-writers', 'config.json')
    let roundsWithBoth = 0
    for (let round = 0; round < 3; round++) {
      // Act: a long lock timeout, so that a live writer's lock is never taken over
      const pair = await Promise.all([
        startWriter(path, `a${round}`, 1000),
        startWriter(path, `b${round}`, 1000),
      ])
      await readWhileWriting(path, 150 + Math.random() * 150)
      await Promise.all(pair.map(kill9))

      // Assess
      const before = await expectConsistent(path)
      const labels = before.map((entry) => entry.label ?? '')
      if (['a', 'b'].every((id) => labels.some((label) => label.startsWith(`${id}${round}#`)))) {
        roundsWithBoth++
      }
      // The writers are dead: a short lock timeout takes their lock over at once
      const after = await writeFileValue(path, JSON.stringify({ writer: 'test', round }), {
        lockTimeoutMs: 20,
      })
      expect(after.version).toBe(before.length + 1)
      expect((await expectConsistent(path)).at(-1)).toEqual(after)
    }
    expect(roundsWithBoth).toBeGreaterThan(0)
  }, 60_000)
})
