/**
 * The local file store: a config value in a plain file, with SSM-like versions,
 * labels, history and compare-and-set, that survives a writer killed at any
 * instruction.
 *
 * ## Layout
 *
 * For the value `.chaos/config.json`:
 *
 * - `.chaos/config.json`: the value in force, a plain file holding exactly the
 *   value's text: what `cat`, `readFile`, editors, git, zip and `FileProvider`
 *   see. Absent when there is no value (never written, or removed).
 * - `.chaos/config.json.history.jsonl`: one {@link FileStoreVersion} per line, oldest
 *   first. Lines may run ahead of the value (see below), never behind it.
 * - `.chaos/config.json.commit/`: the commit proof of the newest version: `<n>`, a
 *   hard link to the value file of version n, or `<n>.removed` after a removal; and,
 *   during a write, the writer's temporary files.
 * - `.chaos/config.json.lock`: held by the one writer at a time; a lock older than
 *   the lock timeout belongs to a dead writer and is taken over by rename.
 *
 * ## Why a crash cannot make the value and its history disagree
 *
 * Each change has exactly one commit point, a single rename(2): the history line is
 * written before it, and the file renamed is the proof that the line is committed.
 * A write of version n (under the lock):
 *
 * 1. the value goes into a temporary file `commit/tmp-<uuid>`, flushed;
 * 2. that file is hard-linked as `commit/<n>` (the proof, not yet valid: the
 *    temporary name is a second link to it);
 * 3. the history line of n is appended and flushed;
 * 4. the temporary file is renamed over the value file: the commit point;
 * 5. the previous version's proof is deleted.
 *
 * A removal appends its history line, then renames the value file to
 * `commit/<n>.removed` (the commit point). Recording a change made outside the
 * store (below) appends its line, then commits with one link(2) of the value file
 * as `commit/<n>`, or one exclusive create of `commit/<n>.removed`; a new store
 * gets `commit/0.removed` before its first write.
 *
 * Version n is committed when `commit/<n>` is the value file (same device and
 * inode), or is linked nowhere else (link count 1: it was the value file until a
 * later write or a hand edit replaced it), or `commit/<n>.removed` exists. The
 * history is the lines up to the newest committed proof; later lines (a writer
 * killed before its commit point) and a torn last line are ignored by readers and
 * deleted, with the stale proofs and temporary files, by the next writer under the
 * lock. An unfinished proof cannot pass for a committed one: until the commit point
 * its temporary file is a second link, and recovery deletes a stale proof before
 * the temporary file. A kill at any point (between any two system calls, or
 * halfway through the history append) therefore leaves the old state or the new
 * one: never a value the history did not record, never a recorded version that
 * was not in force. That is the guarantee for a process that dies (kill -9,
 * crash, out of memory). The value and the history line are also
 * flushed (fsync) before the commit point, so after a power loss it holds as far
 * as the file system persists metadata operations in order (journaling file
 * systems such as ext4 in their default mode do).
 *
 * Readers take no lock. A reader reads the value through one open file handle
 * (rename(2) swaps whole files, so it never sees half a value), and
 * {@link readFileHistory} starts over when the value file changed while it read
 * the history and the proofs (the open handle keeps the inode from being reused).
 *
 * ## Designs not taken
 *
 * - The value path as a symlink to an immutable per-version file, swapped by
 *   rename(2): also one commit point, but the value stops being a plain file
 *   (`Dirent.isFile()` is false, Windows needs privileges for symlinks, zip and git
 *   store the link instead of the text, and an editor saving in place rewrites the
 *   "immutable" version file through the link).
 * - Write-ahead alone (history line, then value, recovery by comparing texts):
 *   after a crash, "line written, value not yet" cannot be told from "value
 *   changed by hand to the previous text", so recovery would have to guess, and a
 *   wrong guess drops or invents a version. The hard-link proof removes the guess.
 *
 * ## Values written outside the store
 *
 * A user may edit `.chaos/config.json` in place, replace it, create it or delete
 * it by hand. {@link readFileValue} returns whatever the file holds;
 * {@link readFileHistory} returns the recorded versions only. The next
 * {@link writeFileValue} or {@link removeFileValue} first records the outside
 * change as a version of its own (label {@link OUTSIDE_WRITE_LABEL} or
 * {@link OUTSIDE_REMOVAL_LABEL}), then makes its own change as the version after.
 * A hand edit is not a version until then: compare-and-set compares with the last
 * recorded version. A store written by an earlier release (a history file without
 * `commit/`) is read as before and carried over by its next write.
 *
 * Needs a file system with hard links (any local disk on Linux, macOS, Windows;
 * not FAT/exFAT).
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import {
  type FileStoreVersion,
  interpret,
  orMissing,
  pathsOf,
  type StorePaths,
  type StoreState,
  takeSnapshot,
} from './file-store-state.js'

export type { FileStoreVersion } from './file-store-state.js'

/** Raised when a conditional write finds another version than the one expected. */
export class FileStoreConflictError extends Error {
  public readonly expectedVersion: number
  public readonly actualVersion: number

  public constructor(path: string, expectedVersion: number, actualVersion: number) {
    super(
      `${path} is at version ${actualVersion}, not ${expectedVersion}: another writer changed it`,
    )
    this.name = 'FileStoreConflictError'
    this.expectedVersion = expectedVersion
    this.actualVersion = actualVersion
  }
}

/** Label of the version that records a value written or edited outside the store. */
export const OUTSIDE_WRITE_LABEL = 'written outside the file store'
/** Label of the version that records a value file deleted outside the store. */
export const OUTSIDE_REMOVAL_LABEL = 'removed outside the file store'

const DEFAULT_LOCK_TIMEOUT_MS = 5000

const writeNewFile = async (path: string, text: string) => {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const appendHistory = async (paths: StorePaths, entry: FileStoreVersion) => {
  const handle = await open(paths.history, 'a')
  try {
    await handle.appendFile(`${JSON.stringify(entry)}\n`, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const temporaryIn = (paths: StorePaths) => join(paths.commit, `tmp-${randomUUID()}`)

const removeQuietly = (path: string) => rm(path, { force: true })

/**
 * Under the lock: deletes what killed writers left (history lines past the
 * committed proof, a torn line, stale proofs, temporary files), in an order that
 * keeps every intermediate state meaning the same committed state.
 */
const recover = async (paths: StorePaths, state: StoreState) => {
  const { snapshot, committed, proof } = state
  if (snapshot.tornHistory || committed.length !== snapshot.lines.length) {
    const temporary = temporaryIn(paths)
    await mkdir(paths.commit, { recursive: true })
    await writeNewFile(temporary, committed.map((entry) => `${JSON.stringify(entry)}\n`).join(''))
    await rename(temporary, paths.history)
  }
  // Proofs before temporary files: a stale proof whose temporary file is gone would
  // have link count 1 and pass for committed.
  for (const stale of snapshot.proofs) {
    if (stale !== proof) await removeQuietly(join(paths.commit, stale.name))
  }
  for (const name of snapshot.temporaries) await removeQuietly(join(paths.commit, name))
}

/**
 * Under the lock, after {@link recover}: records what changed outside the store
 * as a version of its own, and makes sure a committed proof exists, so that every
 * later history line is uncommitted until its commit point. Returns the current
 * version and the proofs to delete once the next version is committed.
 */
const settle = async (
  paths: StorePaths,
  state: StoreState,
): Promise<{ version: number; oldProofs: string[] }> => {
  const { snapshot, committed, proof } = state
  const last = committed.at(-1)
  const version = Math.max(last?.version ?? 0, proof?.version ?? 0)
  const oldProofs = proof ? [proof.name] : []
  await mkdir(paths.commit, { recursive: true })
  if (snapshot.valueStats !== undefined) {
    if (!state.recorded) {
      // Written outside: the line first (the value is already in force), then the proof.
      const next = version + 1
      await appendHistory(paths, {
        version: next,
        value: snapshot.text ?? '',
        modifiedAt: snapshot.valueStats.mtime.toISOString(),
        label: OUTSIDE_WRITE_LABEL,
      })
      await link(paths.value, join(paths.commit, String(next)))
      return { version: next, oldProofs: [...oldProofs, String(next)] }
    }
    if (!proof && last) {
      // A store of an earlier release: its current version gets its proof.
      await link(paths.value, join(paths.commit, String(last.version)))
      return { version, oldProofs: [String(last.version)] }
    }
    return { version, oldProofs }
  }
  if (!state.recorded) {
    // Deleted outside: a removal line, then its proof.
    const next = version + 1
    await appendHistory(paths, {
      version: next,
      value: '',
      modifiedAt: new Date().toISOString(),
      label: OUTSIDE_REMOVAL_LABEL,
      removed: true,
    })
    await writeNewFile(join(paths.commit, `${next}.removed`), '')
    return { version: next, oldProofs: [...oldProofs, `${next}.removed`] }
  }
  if (!proof) {
    // No value and no proof yet: a proof of "nothing", so that the first write's
    // history line is uncommitted until its commit point.
    await writeNewFile(join(paths.commit, `${version}.removed`), '')
    return { version, oldProofs: [`${version}.removed`] }
  }
  return { version, oldProofs }
}

const withLock = async <T>(lock: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const handle = await open(lock, 'wx')
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // A lock older than the timeout belongs to a writer that died. Taking it over is
      // a rename, which only one of several waiters can win; the others wait on.
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      )
      if (age > timeoutMs) {
        const stale = `${lock}.${randomUUID()}.stale`
        if (
          await rename(lock, stale).then(
            () => true,
            () => false,
          )
        ) {
          // Between our stat and our rename, another waiter may have taken the stale
          // lock over and made a fresh one: if we took a fresh lock, give it back.
          const taken = await stat(stale).catch(() => undefined)
          if (taken && Date.now() - taken.mtimeMs <= timeoutMs) {
            await link(stale, lock).catch(() => undefined)
          }
          await rm(stale, { force: true })
        }
      } else if (Date.now() > deadline) {
        throw new Error(`${lock.slice(0, -'.lock'.length)} is locked by another writer`)
      } else {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10))
      }
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { force: true })
  }
}

/** Options of {@link writeFileValue}. */
export interface WriteFileValueOptions {
  /** Write only if the store is at this version (0: no version yet); else {@link FileStoreConflictError}. */
  expectedVersion?: number
  /** Recorded with the version, e.g. `experiment workshop: S01`. */
  label?: string
  /** How long to wait for another writer's lock, and the age after which a lock is stale (5 s). */
  lockTimeoutMs?: number
}

/** Options of {@link removeFileValue}. */
export interface RemoveFileValueOptions {
  /** Recorded with the removal, e.g. `experiment workshop: restore`. */
  label?: string
  /** How long to wait for another writer's lock, and the age after which a lock is stale (5 s). */
  lockTimeoutMs?: number
}

/**
 * Reads a file-store value: the file's exact text, what an SSM parameter would
 * hold. Throws an `ENOENT` error when there is no value (never written, or removed).
 */
export const readFileValue = (path: string): Promise<string> => readFile(resolve(path), 'utf8')

/**
 * Every committed version, oldest first, numbered 1, 2, 3… without gaps: the
 * writes of {@link writeFileValue}, the removals of {@link removeFileValue}
 * (`removed: true`, value `''`), and the outside changes the next write recorded.
 * The last entry is the value in force, unless the file was changed by hand since
 * the last write. Empty when nothing was ever written.
 */
export const readFileHistory = async (path: string): Promise<FileStoreVersion[]> =>
  interpret(await takeSnapshot(pathsOf(path), false)).committed

/**
 * Writes a file-store value as its next version, crash-safely: whatever instant
 * the process dies at, the value file holds either the old value with the old
 * history or the new value with its history line, and a reader never sees half a
 * value (see the module documentation). Writers are serialised by a lock file;
 * with `expectedVersion` the write happens only if nobody wrote in between, like a
 * compare-and-set. A value changed or deleted by hand since the last write is first
 * recorded as a version of its own.
 *
 * @example
 * ```ts
 * const { version } = await writeFileValue('.chaos/config.json', '{"is_enabled":false}')
 * await writeFileValue('.chaos/config.json', next, { expectedVersion: version })
 * ```
 */
export const writeFileValue = async (
  path: string,
  value: string,
  options: WriteFileValueOptions = {},
): Promise<FileStoreVersion> => {
  const paths = pathsOf(path)
  await mkdir(dirname(paths.value), { recursive: true })
  return withLock(paths.lock, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async () => {
    const state = interpret(await takeSnapshot(paths, true))
    await recover(paths, state)
    const current = state.committed.at(-1)?.version ?? 0
    if (options.expectedVersion !== undefined && options.expectedVersion !== current) {
      throw new FileStoreConflictError(path, options.expectedVersion, current)
    }
    const { version, oldProofs } = await settle(paths, state)
    const entry: FileStoreVersion = {
      version: version + 1,
      value,
      modifiedAt: new Date().toISOString(),
      ...(options.label === undefined ? {} : { label: options.label }),
    }
    const temporary = temporaryIn(paths)
    await writeNewFile(temporary, value)
    await link(temporary, join(paths.commit, String(entry.version)))
    await appendHistory(paths, entry)
    await rename(temporary, paths.value) // the commit point
    for (const name of oldProofs) await removeQuietly(join(paths.commit, name))
    return entry
  })
}

/**
 * Removes a file-store value, crash-safely and under the writers' lock: afterwards
 * {@link readFileValue} throws `ENOENT`, as SSM's `DeleteParameter` leaves no value.
 * Unlike SSM, the history is kept: the removal is recorded as the next version
 * (`removed: true`, value `''`, with `label`), and a later write continues the
 * numbering, so a version number never means two things.
 *
 * @returns the removal's history entry, or `undefined` when there was no value
 * to remove (a value file deleted by hand is recorded as an outside removal).
 *
 * @example
 * ```ts
 * await removeFileValue('.chaos/config.json', { label: 'experiment workshop: restore' })
 * ```
 */
export const removeFileValue = async (
  path: string,
  options: RemoveFileValueOptions = {},
): Promise<FileStoreVersion | undefined> => {
  const paths = pathsOf(path)
  if ((await orMissing(stat(dirname(paths.value)))) === undefined) return undefined
  return withLock(paths.lock, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async () => {
    const state = interpret(await takeSnapshot(paths, true))
    await recover(paths, state)
    if (state.snapshot.valueStats === undefined && state.recorded) return undefined
    const { version, oldProofs } = await settle(paths, state)
    if (state.snapshot.valueStats === undefined) return undefined
    const entry: FileStoreVersion = {
      version: version + 1,
      value: '',
      modifiedAt: new Date().toISOString(),
      ...(options.label === undefined ? {} : { label: options.label }),
      removed: true,
    }
    await appendHistory(paths, entry)
    await rename(paths.value, join(paths.commit, `${entry.version}.removed`)) // the commit point
    for (const name of oldProofs) await removeQuietly(join(paths.commit, name))
    return entry
  })
}
