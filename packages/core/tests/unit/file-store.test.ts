import {
  appendFile,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileProvider } from '../../src/file-provider.js'
import {
  FileStoreConflictError,
  OUTSIDE_REMOVAL_LABEL,
  OUTSIDE_WRITE_LABEL,
  readFileHistory,
  readFileValue,
  removeFileValue,
  writeFileValue,
} from '../../src/file-store.js'

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-store-'))
  path = join(dir, 'config.json')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const versionsOf = async (file: string) =>
  (await readFileHistory(file)).map((entry) => [entry.version, entry.value, entry.label])

/** Leaves the files a writer killed just before its commit point (rename) would leave. */
const simulateWriterKilledBeforeCommit = async (version: number, value: string) => {
  const temporary = join(`${path}.commit`, 'tmp-killed')
  await writeFile(temporary, value)
  await link(temporary, join(`${path}.commit`, String(version)))
  await appendFile(
    `${path}.history.jsonl`,
    `${JSON.stringify({ version, value, modifiedAt: new Date().toISOString() })}\n`,
  )
  await writeFile(`${path}.lock`, '')
  const old = new Date(Date.now() - 60_000)
  await utimes(`${path}.lock`, old, old)
}

describe('writeFileValue', () => {
  it('numbers the versions 1, 2, 3 and returns each with its label and time', async () => {
    // Act
    const first = await writeFileValue(path, 'one', { label: 'setup' })
    const second = await writeFileValue(path, 'two')
    const third = await writeFileValue(path, 'three', { label: 'experiment x: S01' })

    // Assess
    expect([first.version, second.version, third.version]).toEqual([1, 2, 3])
    expect(first).toEqual({
      version: 1,
      value: 'one',
      modifiedAt: first.modifiedAt,
      label: 'setup',
    })
    expect(second).not.toHaveProperty('label')
    expect(Date.parse(third.modifiedAt)).toBeGreaterThanOrEqual(Date.parse(first.modifiedAt))
  })

  it('leaves the exact text in a plain file at the path', async () => {
    // Prepare
    const text = '{"is_enabled":true}\n  trailing spaces and ünïcödé  '

    // Act
    await writeFileValue(path, text)

    // Assess
    expect((await lstat(path)).isFile()).toBe(true)
    expect(await readFile(path, 'utf8')).toBe(text)
    expect(await readFileValue(path)).toBe(text)
  })

  it('creates the directories of the path', async () => {
    // Act
    await writeFileValue(join(dir, 'a', 'b', 'config.json'), 'x')

    // Assess
    expect(await readFileValue(join(dir, 'a', 'b', 'config.json'))).toBe('x')
  })

  it('writes when the expected version is the current one, 0 for a new store', async () => {
    // Act
    const first = await writeFileValue(path, 'one', { expectedVersion: 0 })
    const second = await writeFileValue(path, 'two', { expectedVersion: first.version })

    // Assess
    expect(second.version).toBe(2)
    expect(await readFileValue(path)).toBe('two')
  })

  it('refuses a write whose expected version is not the current one, and changes nothing', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFileValue(path, 'two')

    // Act
    const write = writeFileValue(path, 'late', { expectedVersion: 1 })

    // Assess
    await expect(write).rejects.toThrow(FileStoreConflictError)
    await expect(write).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 })
    expect(await readFileValue(path)).toBe('two')
    expect((await readFileHistory(path)).map((entry) => entry.version)).toEqual([1, 2])
  })

  it('leaves only the value, its history and the proof of the current version', async () => {
    // Act
    for (const value of ['one', 'two', 'three']) await writeFileValue(path, value)

    // Assess
    expect((await readdir(dir)).sort()).toEqual([
      'config.json',
      'config.json.commit',
      'config.json.history.jsonl',
    ])
    expect(await readdir(`${path}.commit`)).toEqual(['3'])
  })
})

describe('readFileValue', () => {
  it('throws an ENOENT error when nothing was written', async () => {
    // Act
    const read = readFileValue(path)

    // Assess
    await expect(read).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('readFileHistory', () => {
  it('is empty when nothing was written', async () => {
    // Act
    const history = await readFileHistory(path)

    // Assess
    expect(history).toEqual([])
  })

  it('returns every version oldest first, with its value and label', async () => {
    // Prepare
    await writeFileValue(path, 'one', { label: 'a' })
    await writeFileValue(path, 'two')
    await writeFileValue(path, 'one', { label: 'c' })

    // Act
    const history = await versionsOf(path)

    // Assess
    expect(history).toEqual([
      [1, 'one', 'a'],
      [2, 'two', undefined],
      [3, 'one', 'c'],
    ])
  })

  it('leaves out the line of a write killed before its commit point', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFileValue(path, 'two')
    await simulateWriterKilledBeforeCommit(3, 'never in force')

    // Act
    const history = await versionsOf(path)

    // Assess
    expect(history).toEqual([
      [1, 'one', undefined],
      [2, 'two', undefined],
    ])
    expect(await readFileValue(path)).toBe('two')
  })

  it('counts the write of a writer killed after its commit point', async () => {
    // Prepare: killed after the rename, before deleting the proof of version 1
    await writeFileValue(path, 'one')
    await link(join(`${path}.commit`, '1'), join(dir, 'proof-1'))
    await writeFileValue(path, 'two')
    await rename(join(dir, 'proof-1'), join(`${path}.commit`, '1'))

    // Act
    const history = await versionsOf(path)

    // Assess
    expect(history).toEqual([
      [1, 'one', undefined],
      [2, 'two', undefined],
    ])
  })

  it('ignores a torn last line', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await appendFile(`${path}.history.jsonl`, '{"version":2,"val')

    // Act
    const history = await versionsOf(path)

    // Assess
    expect(history).toEqual([[1, 'one', undefined]])
  })
})

describe('writeFileValue after a writer was killed', () => {
  it('takes the dead writer’s lock over, drops its uncommitted version and reuses the number', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await simulateWriterKilledBeforeCommit(2, 'never in force')

    // Act
    const written = await writeFileValue(path, 'two', { lockTimeoutMs: 1000 })

    // Assess
    expect(written.version).toBe(2)
    expect(await versionsOf(path)).toEqual([
      [1, 'one', undefined],
      [2, 'two', undefined],
    ])
    expect(await readdir(`${path}.commit`)).toEqual(['2'])
    expect(await readFile(`${path}.history.jsonl`, 'utf8')).not.toContain('never in force')
  })

  it('repairs a torn last line before appending', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await appendFile(`${path}.history.jsonl`, '{"version":2,"val')

    // Act
    await writeFileValue(path, 'two')

    // Assess
    expect(await versionsOf(path)).toEqual([
      [1, 'one', undefined],
      [2, 'two', undefined],
    ])
    expect((await readFile(`${path}.history.jsonl`, 'utf8')).trim().split('\n')).toHaveLength(2)
  })
})

describe('removeFileValue', () => {
  it('removes the value and records the removal as the next version', async () => {
    // Prepare
    await writeFileValue(path, 'one')

    // Act
    const removal = await removeFileValue(path, { label: 'experiment x: restore' })

    // Assess
    expect(removal).toMatchObject({
      version: 2,
      value: '',
      label: 'experiment x: restore',
      removed: true,
    })
    await expect(readFileValue(path)).rejects.toMatchObject({ code: 'ENOENT' })
    expect((await readFileHistory(path)).at(-1)).toEqual(removal)
  })

  it('lets a later write continue the numbering', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await removeFileValue(path)

    // Act
    const written = await writeFileValue(path, 'two', { expectedVersion: 2 })

    // Assess
    expect(written.version).toBe(3)
    expect(await readFileValue(path)).toBe('two')
  })

  it('does nothing when there is no value', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await removeFileValue(path)

    // Act
    const again = await removeFileValue(path)
    const never = await removeFileValue(join(dir, 'missing', 'config.json'))

    // Assess
    expect(again).toBeUndefined()
    expect(never).toBeUndefined()
    expect((await readFileHistory(path)).map((entry) => entry.version)).toEqual([1, 2])
  })

  it('leaves out the removal of a remover killed before its commit point', async () => {
    // Prepare: the removal line is written, the value file not yet moved
    await writeFileValue(path, 'one')
    await appendFile(
      `${path}.history.jsonl`,
      `${JSON.stringify({ version: 2, value: '', modifiedAt: '', removed: true })}\n`,
    )

    // Act
    const history = await versionsOf(path)

    // Assess
    expect(history).toEqual([[1, 'one', undefined]])
    expect(await readFileValue(path)).toBe('one')
  })
})

describe('values written outside the store', () => {
  it('reads a value edited in place as the value in force, and the next write records it first', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFile(path, 'edited by hand')

    // Act
    const value = await readFileValue(path)
    const written = await writeFileValue(path, 'two', { expectedVersion: 1 })

    // Assess
    expect(value).toBe('edited by hand')
    expect(written.version).toBe(3)
    expect(await versionsOf(path)).toEqual([
      [1, 'one', undefined],
      [2, 'edited by hand', OUTSIDE_WRITE_LABEL],
      [3, 'two', undefined],
    ])
  })

  it('records a value file replaced by an editor', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFile(join(dir, 'config.json~'), 'replaced by hand')
    await rename(join(dir, 'config.json~'), path)

    // Act
    await writeFileValue(path, 'two')

    // Assess
    expect(await versionsOf(path)).toEqual([
      [1, 'one', undefined],
      [2, 'replaced by hand', OUTSIDE_WRITE_LABEL],
      [3, 'two', undefined],
    ])
  })

  it('starts the history from a value file created by hand', async () => {
    // Prepare
    await writeFile(path, 'created by hand')

    // Act
    const before = await readFileHistory(path)
    const written = await writeFileValue(path, 'one', { expectedVersion: 0 })

    // Assess
    expect(before).toEqual([])
    expect(written.version).toBe(2)
    expect(await versionsOf(path)).toEqual([
      [1, 'created by hand', OUTSIDE_WRITE_LABEL],
      [2, 'one', undefined],
    ])
  })

  it('records a value file deleted by hand as a removal', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await rm(path)

    // Act
    const removal = await removeFileValue(path)
    await writeFileValue(path, 'two')

    // Assess
    expect(removal).toBeUndefined()
    expect(await versionsOf(path)).toEqual([
      [1, 'one', undefined],
      [2, '', OUTSIDE_REMOVAL_LABEL],
      [3, 'two', undefined],
    ])
  })

  it('adds nothing when the file was rewritten by hand with the same text', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFile(path, 'one')

    // Act
    const written = await writeFileValue(path, 'two')

    // Assess
    expect(written.version).toBe(2)
  })

  it('reads and continues a store of an earlier release (history file, no proof)', async () => {
    // Prepare
    await writeFile(path, 'two')
    await writeFile(
      `${path}.history.jsonl`,
      [
        { version: 1, value: 'one', modifiedAt: '2026-01-01T00:00:00.000Z', label: 'setup' },
        { version: 2, value: 'two', modifiedAt: '2026-01-02T00:00:00.000Z' },
      ]
        .map((entry) => `${JSON.stringify(entry)}\n`)
        .join(''),
    )

    // Act
    const before = await versionsOf(path)
    const written = await writeFileValue(path, 'three', { expectedVersion: 2 })

    // Assess
    expect(before).toEqual([
      [1, 'one', 'setup'],
      [2, 'two', undefined],
    ])
    expect(written.version).toBe(3)
    expect(await readdir(`${path}.commit`)).toEqual(['3'])
  })
})

describe('the writers’ lock', () => {
  it('takes over a lock older than the timeout', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFile(`${path}.lock`, '')
    const old = new Date(Date.now() - 10_000)
    await utimes(`${path}.lock`, old, old)

    // Act
    const written = await writeFileValue(path, 'two', { lockTimeoutMs: 1000 })

    // Assess
    expect(written.version).toBe(2)
    expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([])
  })

  it('waits while another writer holds the lock', async () => {
    // Prepare
    await writeFileValue(path, 'one')
    await writeFile(`${path}.lock`, '')
    const started = Date.now()
    setTimeout(() => void rm(`${path}.lock`), 150)

    // Act
    const written = await writeFileValue(path, 'two', { lockTimeoutMs: 2000 })

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(written.version).toBe(2)
  })

  it('gives up when the lock is not released nor stale within the timeout', async () => {
    // Prepare: a lock touched just now (here: in the future), so it never looks stale
    await writeFileValue(path, 'one')
    await writeFile(`${path}.lock`, '')
    const future = new Date(Date.now() + 60_000)
    await utimes(`${path}.lock`, future, future)

    // Act
    const write = writeFileValue(path, 'two', { lockTimeoutMs: 200 })

    // Assess
    await expect(write).rejects.toThrow(`${path} is locked by another writer`)
    expect(await readFileValue(path)).toBe('one')
  })

  it('serialises concurrent writers: no version lost or given twice', async () => {
    // Prepare
    await writeFileValue(path, 'start')
    const values = Array.from({ length: 25 }, (_, index) => `writer ${index}`)

    // Act
    const written = await Promise.all(
      values.map((value, index) =>
        index % 5 === 4 ? removeFileValue(path) : writeFileValue(path, value),
      ),
    )

    // Assess
    const history = await readFileHistory(path)
    const versions = written.flatMap((entry) => (entry ? [entry.version] : []))
    expect(history.map((entry) => entry.version)).toEqual(history.map((_, index) => index + 1))
    expect(new Set(versions).size).toBe(versions.length)
    expect(history.slice(1).map((entry) => entry.version)).toEqual(versions.sort((a, b) => a - b))
    const last = history.at(-1)
    if (last?.removed) await expect(readFileValue(path)).rejects.toMatchObject({ code: 'ENOENT' })
    else expect(await readFileValue(path)).toBe(last?.value)
  })
})

describe('readers alongside writers', () => {
  it('see only whole values and gapless histories of committed versions', async () => {
    // Prepare
    const values = Array.from(
      { length: 30 },
      (_, index) => `value ${index} ${'x'.repeat(index * 500)}`,
    )
    let writing = true
    const seen: { versions: number[]; value: string | undefined }[] = []
    const reader = async () => {
      while (writing) {
        const history = await readFileHistory(path)
        const value = await readFileValue(path).catch(() => undefined)
        seen.push({ versions: history.map((entry) => entry.version), value })
      }
    }

    // Act
    const readers = [reader(), reader()]
    await Promise.all(
      values.map((value, index) =>
        index % 6 === 5 ? removeFileValue(path) : writeFileValue(path, value),
      ),
    )
    writing = false
    await Promise.all(readers)

    // Assess
    expect(seen.length).toBeGreaterThan(10)
    for (const { versions, value } of seen) {
      expect(versions).toEqual(versions.map((_, index) => index + 1))
      if (value !== undefined) expect(values).toContain(value)
    }
  })
})

describe('FileProvider', () => {
  it('gets the value text of a path', async () => {
    // Prepare
    await writeFileValue(path, '{"is_enabled":true}')
    const provider = new FileProvider()

    // Act
    const value = await provider.get(path)

    // Assess
    expect(value).toBe('{"is_enabled":true}')
  })

  it('lists the values of a directory, without the store’s own files', async () => {
    // Prepare
    await writeFileValue(join(dir, 'a.json'), 'A')
    await writeFileValue(join(dir, 'b.json'), 'B1')
    await writeFileValue(join(dir, 'b.json'), 'B2')
    await writeFileValue(join(dir, 'gone.json'), 'G')
    await removeFileValue(join(dir, 'gone.json'))
    await writeFile(join(dir, 'a.json.lock'), '')
    await writeFile(join(dir, '.hidden'), 'H')
    await mkdir(join(dir, 'sub'))

    // Act
    const values = await new FileProvider().getMultiple(dir)

    // Assess
    expect(values).toEqual({ 'a.json': 'A', 'b.json': 'B2' })
  })
})
