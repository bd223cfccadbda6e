/**
 * How a file store's files are read (see `file-store.ts` for the layout and
 * why a crash cannot make the value and its history disagree): the paths of a
 * store, its commit proofs and history lines, a snapshot of them, and which
 * versions that snapshot says are committed.
 *
 * @module
 */
import type { BigIntStats } from 'node:fs'
import { type FileHandle, open, readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/** A reader starts over when a writer commits while it reads; this many times at most. */
const MAX_READ_ATTEMPTS = 100

/** One entry of a file store's version history, as SSM's `GetParameterHistory` gives. */
export interface FileStoreVersion {
  version: number
  /** The value's exact text; `''` for a removal. */
  value: string
  modifiedAt: string
  /** Who wrote it, e.g. `experiment workshop: restore`. */
  label?: string
  /** Set on the version that removed the value (`removeFileValue`). */
  removed?: true
}

export interface StorePaths {
  value: string
  history: string
  /** The commit proof directory. */
  commit: string
  lock: string
}

export const pathsOf = (path: string): StorePaths => {
  const value = resolve(path)
  return {
    value,
    history: `${value}.history.jsonl`,
    commit: `${value}.commit`,
    lock: `${value}.lock`,
  }
}

export const isMissing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === 'ENOENT'

export const orMissing = <T>(promise: Promise<T>): Promise<T | undefined> =>
  promise.catch((error: unknown) => {
    if (isMissing(error)) return undefined
    throw error
  })

export const sameFile = (a: BigIntStats | undefined, b: BigIntStats | undefined) =>
  a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino

export interface Proof {
  name: string
  version: number
  removed: boolean
  stats: BigIntStats
}

/** What the store's files held at one moment. */
export interface Snapshot {
  /** The value file's identity, `undefined` when there is none. */
  valueStats: BigIntStats | undefined
  /** The value file's text (when asked for). */
  text: string | undefined
  /** History lines that parse, in file order. */
  lines: FileStoreVersion[]
  /** The history file has a line that does not parse or lacks its newline. */
  tornHistory: boolean
  proofs: Proof[]
  /** Other files in the commit directory: temporary files of writers. */
  temporaries: string[]
}

/** A snapshot, interpreted. */
export interface StoreState {
  snapshot: Snapshot
  /** The newest committed proof, `undefined` in a store of an earlier release. */
  proof: Proof | undefined
  /** The committed versions, oldest first. */
  committed: FileStoreVersion[]
  /** Whether the value file (or its absence) is what the last committed version says. */
  recorded: boolean
}

export const PROOF_NAME = /^(\d+)(\.removed)?$/

export const parseLine = (line: string): FileStoreVersion | undefined => {
  try {
    const entry = JSON.parse(line) as FileStoreVersion
    return Number.isSafeInteger(entry?.version) && typeof entry.value === 'string'
      ? entry
      : undefined
  } catch {
    return undefined
  }
}

export const readProofs = async (paths: StorePaths) => {
  const proofs: Proof[] = []
  const temporaries: string[] = []
  for (const name of (await orMissing(readdir(paths.commit))) ?? []) {
    const match = PROOF_NAME.exec(name)
    if (!match) {
      temporaries.push(name)
      continue
    }
    // A proof deleted since readdir belongs to a version no longer current: skip it.
    const stats = await orMissing(stat(join(paths.commit, name), { bigint: true }))
    if (stats) {
      proofs.push({ name, version: Number(match[1]), removed: match[2] !== undefined, stats })
    }
  }
  return { proofs, temporaries }
}

export const readHistoryLines = async (paths: StorePaths) => {
  const text = (await orMissing(readFile(paths.history, 'utf8'))) ?? ''
  const lines: FileStoreVersion[] = []
  let tornHistory = text !== '' && !text.endsWith('\n')
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const entry = parseLine(line)
    if (entry) lines.push(entry)
    else tornHistory = true
  }
  return { lines, tornHistory }
}

/**
 * Reads the value file's identity (and text), the history and the proofs, and
 * starts over when the value file was replaced meanwhile: a snapshot is of one
 * committed state. The value file stays open throughout, so its inode number
 * cannot be reused by a later version.
 */
export const takeSnapshot = async (paths: StorePaths, withText: boolean): Promise<Snapshot> => {
  for (let attempt = 1; ; attempt++) {
    const handle: FileHandle | undefined = await orMissing(open(paths.value, 'r'))
    try {
      const valueStats = await handle?.stat({ bigint: true })
      const text = withText ? await handle?.readFile('utf8') : undefined
      // The history before the proofs: writers append a line only once a committed proof
      // exists (and, for a write, the line's own unfinished proof), so the proofs listed
      // afterwards either commit a line read here or leave it past the newest committed one.
      // (In a store of an earlier release, without proofs, the first line a writer appends
      // records the value already in force: it is true as soon as it is written.)
      const { lines, tornHistory } = await readHistoryLines(paths)
      const { proofs, temporaries } = await readProofs(paths)
      const after = await orMissing(stat(paths.value, { bigint: true }))
      if (valueStats === undefined ? after === undefined : sameFile(valueStats, after)) {
        return { valueStats, text, lines, tornHistory, proofs, temporaries }
      }
    } finally {
      await handle?.close()
    }
    if (attempt >= MAX_READ_ATTEMPTS) {
      throw new Error(`${paths.value} kept changing while its history was read`)
    }
  }
}

export const isCommitted = (proof: Proof, valueStats: BigIntStats | undefined) =>
  proof.removed || sameFile(proof.stats, valueStats) || proof.stats.nlink === 1n

export const interpret = (snapshot: Snapshot): StoreState => {
  const { valueStats, lines, proofs } = snapshot
  let proof: Proof | undefined
  for (const candidate of proofs) {
    if (isCommitted(candidate, valueStats) && (!proof || candidate.version > proof.version)) {
      proof = candidate
    }
  }
  // Without a committed proof (a store of an earlier release, which appended the line
  // after the value), every line counts but those of unfinished writes.
  const unfinished = new Set(proofs.map((candidate) => candidate.version))
  const committed: FileStoreVersion[] = []
  for (const line of lines) {
    const counts = proof ? line.version <= proof.version : !unfinished.has(line.version)
    if (counts && line.version > (committed.at(-1)?.version ?? 0)) committed.push(line)
  }
  const last = committed.at(-1)
  const recorded =
    valueStats === undefined
      ? last === undefined || last.removed === true
      : last !== undefined && last.removed !== true && snapshot.text === last.value
  return { snapshot, proof, committed, recorded }
}

/** Creates `path` with `text` and flushes it; fails if it exists. */
