import { randomBytes } from 'node:crypto'
import { readdirSync, rmSync, statfsSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MiddlewareObj, Request } from '@middy/core'
import {
  type ChaosEntryFields,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  describeValue,
  type FaultDefinition,
  parseDuration,
  remainingTimeMs,
} from '@middy-chaos/core'

/** Largest fill a config may ask for, in MB: Lambda's 10 GB maximum of ephemeral storage. */
export const MAX_MEGABYTES = 10_240
/** One MB as failure-lambda 1.x (and `dd`) count it: 1,048,576 bytes. */
export const MB = 1_048_576
/** How long kept files live by default, and at most. */
export const DEFAULT_KEEP_FOR_MS = 15 * 60_000
export const MAX_KEEP_FOR_MS = 60 * 60_000
/** Every file this fault writes is named `middy-chaos-diskspace-<pid>-<token>-<n>.fill`. */
export const FILE_PREFIX = 'middy-chaos-diskspace-'
const FILE_SUFFIX = '.fill'

/** Options of {@link chaosDiskspace}. */
export interface ChaosDiskspaceOptions extends ChaosMiddlewareOptions {
  /** Where the files go (default `os.tmpdir()`: `/tmp` in Lambda). A config cannot change it. */
  directory?: string
  /** MB always left free in `directory`: a fill stops short of it (default 16). */
  reserveMb?: number
  /** MB that kept files (`keep: true`) may hold in all (default 512). */
  maxKeptMb?: number
  /** ms kept free before the Lambda deadline: writing stops there (default 100). */
  deadlineMargin?: number
}

/** Parameters of a disk space fault, as read from the config. */
export interface DiskspaceParams {
  /** MB to write. */
  megabytes: number
  /** Leave the files for later invocations (until `keepFor`, within `maxKeptMb`). */
  keep: boolean
  /** How long kept files live, ms (only with `keep`). */
  keepFor?: number
}

/**
 * A diskspace entry of a middy-chaos document, as written.
 *
 * @example
 * ```ts
 * const entry: DiskspaceEntry = { type: 'diskspace', megabytes: 400 }
 * ```
 */
export interface DiskspaceEntry extends ChaosEntryFields {
  readonly type: 'diskspace' | 'disk_space'
  /** MB written, 1 to 10240 (default 100). */
  readonly megabytes?: number
  /** Leave the files for later invocations. */
  readonly keep?: boolean
  /** How long kept files stay: `"15m"` or ms. */
  readonly keepFor?: string | number
  readonly phase?: 'before'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    diskspace: DiskspaceEntry
  }
}

const defaults = { reserveMb: 16, maxKeptMb: 512, deadlineMargin: 100 }

/** One file written by the fault. */
interface Fill {
  readonly path: string
  readonly keep: boolean
  /** When a kept file is removed (epoch ms). */
  readonly until: number
  /** Bytes written so far. */
  bytes: number
  /** The invocation ended: a file not kept is gone, and its writing stops. */
  ended: boolean
}

/**
 * This process in file names: its pid and a random token, since a runtime
 * that Lambda restarts in the same sandbox (after a timeout or a crash) may get
 * the same pid and finds the files of the process before it.
 */
const OWNER = `${process.pid}-${randomBytes(4).toString('hex')}`
const OWNED = new RegExp(`^${FILE_PREFIX}(\\d+)-([0-9a-f]+)-\\d+\\${FILE_SUFFIX}$`)
let sequence = 0
/** Files of each invocation in which the fault fired, removed when it ends. */
const byInvocation = new WeakMap<Request, Fill[]>()
/** Files kept across invocations, oldest first. */
const kept: Fill[] = []
/** 1 MB of random bytes, written again and again: a filesystem that compresses cannot shrink it. */
let chunk: Buffer | undefined

/** Removes a file; never throws (a hook must not break the invocation): false if it could not. */
const removeFile = (path: string): boolean => {
  try {
    rmSync(path, { force: true })
    return true
  } catch {
    return false
  }
}

const remove = (fill: Fill): boolean => removeFile(fill.path)

/** Removes the kept files whose time is up; all of them with `now` = Infinity. */
const releaseKept = (now: number): void => {
  for (let i = kept.length - 1; i >= 0; i--) {
    const fill = kept[i] as Fill
    if (fill.until > now || !remove(fill)) continue
    kept.splice(i, 1)
  }
}

/**
 * Removes every file this process keeps for later invocations now, rather
 * than when their `keepFor` ends (tests, or a handler that wants its `/tmp`
 * back). Files of an invocation in progress are removed when it ends.
 */
export const releaseKeptFiles = (): void => releaseKept(Number.POSITIVE_INFINITY)

const keptBytes = (): number => kept.reduce((sum, fill) => sum + fill.bytes, 0)

/** Whether the process that wrote a file is gone: another pid that no longer runs, or this pid's earlier life. */
const writerGone = (pid: number, token: string): boolean => {
  if (pid === process.pid) return `${pid}-${token}` !== OWNER
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Removes the files a process that is gone left in `directory` (a crash, a timeout). */
const removeLeftovers = (directory: string): { files: number } => {
  let files = 0
  let names: string[]
  try {
    names = readdirSync(directory)
  } catch {
    return { files }
  }
  for (const name of names) {
    const owner = OWNED.exec(name)
    if (owner === null || !writerGone(Number(owner[1]), owner[2] as string)) continue
    if (removeFile(join(directory, name))) files += 1
  }
  return { files }
}

/** Writes `bytes` to `fill` in chunks of 1 MB, stopping at the deadline margin or when the invocation ends. */
const write = async (
  fill: Fill,
  bytes: number,
  request: Request,
  margin: number,
): Promise<'written' | 'deadline' | 'ended'> => {
  chunk ??= randomBytes(MB)
  const file = await open(fill.path, 'wx')
  try {
    while (fill.bytes < bytes) {
      if (fill.ended && !fill.keep) return 'ended'
      const remaining = remainingTimeMs(request.context)
      if (remaining !== undefined && remaining <= margin) return 'deadline'
      const size = Math.min(MB, bytes - fill.bytes)
      const { bytesWritten } = await file.write(chunk, 0, size)
      fill.bytes += bytesWritten
    }
    return 'written'
  } finally {
    await file.close()
  }
}

const checkOptions = (options: ChaosDiskspaceOptions): void => {
  for (const name of ['reserveMb', 'maxKeptMb', 'deadlineMargin'] as const) {
    const value = options[name]
    if (value !== undefined && !(Number.isInteger(value) && value >= 0))
      throw new TypeError(
        `diskspace: option ${name} must be an integer of at least 0 (got ${value})`,
      )
  }
  if (options.directory !== undefined && typeof options.directory !== 'string')
    throw new TypeError('diskspace: option directory must be a path')
}

/**
 * The disk space fault: `megabytes` written to the function's `/tmp` for the
 * invocation, or kept for later ones (`keep`, `keepFor`).
 */
export const diskspaceFault: FaultDefinition<DiskspaceParams, ChaosDiskspaceOptions> = {
  type: 'diskspace',
  aliases: ['disk_space'],
  package: '@middy-chaos/diskspace',
  factory: 'chaosDiskspace',
  summary: "fills the function's /tmp by N MB for the invocation, within the free space",
  phases: ['before'],
  defaultPhase: 'before',
  defaults,
  setup({ options, logger }) {
    const { files } = removeLeftovers(options.directory ?? tmpdir())
    if (files === 0) return
    try {
      logger.info('Chaos diskspace files of an earlier process removed', {
        chaos: { faultType: 'diskspace', files },
      })
    } catch {
      // A logger that throws must not turn the fault off.
    }
  },
  parse(fields) {
    const megabytes = fields.number('megabytes', {
      min: 1,
      max: MAX_MEGABYTES,
      integer: true,
      unit: 'MB',
      default: 100,
    })
    const keep = fields.boolean('keep', { default: false })
    if (megabytes === undefined || keep === undefined) return undefined
    if (!fields.has('keepFor'))
      return keep ? { megabytes, keep, keepFor: DEFAULT_KEEP_FOR_MS } : { megabytes, keep }
    if (!keep) return fields.issue('keepFor', 'applies only with "keep": true')
    const raw = fields.raw('keepFor')
    const keepFor = parseDuration(raw)
    if (keepFor === undefined || keepFor < 1000 || keepFor > MAX_KEEP_FOR_MS)
      return fields.issue(
        'keepFor',
        `must be a duration from 1s to 1h, such as "15m" or ms (got ${describeValue(raw)})`,
      )
    return { megabytes, keep, keepFor }
  },
  plan({ params, request, options, logger }) {
    const directory = options.directory ?? tmpdir()
    const { bavail, bsize } = statfsSync(directory)
    const freeBytes = bavail * bsize
    const reserveMb = options.reserveMb ?? defaults.reserveMb
    const requested = params.megabytes * MB
    let bytes = Math.min(requested, Math.max(0, Math.floor((freeBytes - reserveMb * MB) / MB) * MB))
    const keptBefore = keptBytes()
    if (params.keep) {
      const cap = (options.maxKeptMb ?? defaults.maxKeptMb) * MB
      bytes = Math.min(bytes, Math.max(0, Math.floor((cap - keptBefore) / MB) * MB))
    }
    const path = join(directory, `${FILE_PREFIX}${OWNER}-${++sequence}${FILE_SUFFIX}`)
    const clamped = bytes < requested
    return {
      details: {
        megabytes: bytes / MB,
        file: path,
        ...(clamped
          ? {
              requestedMegabytes: params.megabytes,
              clamped: true,
              freeMegabytes: Math.floor(freeBytes / MB),
              reserveMb,
            }
          : {}),
        ...(params.keep ? { keptMegabytes: Math.floor(keptBefore / MB) } : {}),
      },
      run: async () => {
        if (bytes === 0) return undefined
        const fill: Fill = {
          path,
          keep: params.keep,
          until: Date.now() + (params.keepFor ?? 0),
          bytes: 0,
          ended: false,
        }
        const fills = byInvocation.get(request) ?? []
        fills.push(fill)
        byInvocation.set(request, fills)
        try {
          const outcome = await write(fill, bytes, request, options.deadlineMargin ?? 0)
          if (outcome === 'deadline')
            logger.warn('Chaos diskspace fill stopped at the deadline margin', {
              chaos: { faultType: 'diskspace', megabytes: Math.floor(fill.bytes / MB), file: path },
            })
        } catch (error) {
          // Nothing half-written stays behind: the invocation goes on untouched.
          remove(fill)
          fills.splice(fills.indexOf(fill), 1)
          throw error
        }
        if (fill.keep) kept.push(fill)
        if (fill.ended && !fill.keep) remove(fill)
        return undefined
      },
    }
  },
  // However the invocation ended, the files it wrote and does not keep are gone.
  end(request) {
    const fills = byInvocation.get(request)
    if (fills === undefined) return
    byInvocation.delete(request)
    for (const fill of fills) {
      fill.ended = true
      if (!fill.keep) remove(fill)
    }
  },
  describe: ({ megabytes, keep, keepFor }) =>
    keep
      ? `diskspace ${megabytes}MB, kept ${Math.round((keepFor ?? DEFAULT_KEEP_FOR_MS) / 60_000)}m`
      : `diskspace ${megabytes}MB`,
  formats: {
    failureLambda: {
      mode: 'diskspace',
      check(flag) {
        const size = flag.disk_space
        return size !== undefined &&
          !(typeof size === 'number' && size > 0 && size <= MAX_MEGABYTES)
          ? [`disk_space must be between 1 and ${MAX_MEGABYTES} (MB) (got ${describeValue(size)})`]
          : []
      },
      fields(flag, { version, note }) {
        if (version === 1) {
          // dd bs=<disk_space × 1024> count=1024: disk_space × 1,048,576 bytes.
          const size = (flag.disk_space ?? 100) as number
          const megabytes = Math.ceil(size)
          if (megabytes !== size)
            note(`diskspace: disk_space ${size} read as ${megabytes} MB (whole MB)`)
          note(
            'diskspace: failure-lambda 1.x removes its file at the next invocation; here it goes when the invocation ends ("keep": true keeps it)',
          )
          return { phase: 'before', megabytes }
        }
        // 0.x: dd bs=<diskSpace × 1000> count=1000, decimal MB; dd writes nothing when that is no number.
        const raw = flag.diskSpace
        const size = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw
        if (typeof size !== 'number' || !Number.isFinite(size) || size <= 0) {
          note(
            `diskSpace: ${describeValue(raw)} is no size, so failure-lambda 0.x's dd writes nothing; the entry is off`,
          )
          return { enabled: false }
        }
        const megabytes = Math.min(MAX_MEGABYTES, Math.max(1, Math.round((size * 1e6) / MB)))
        note(
          `diskSpace: ${size} decimal MB (${size * 1e6} bytes, as failure-lambda 0.x writes them) read as ${megabytes} MB of 1,048,576 bytes`,
        )
        note(
          'diskSpace: failure-lambda 0.x never removes its files; here they go when the invocation ends ("keep": true keeps them)',
        )
        return { phase: 'before', megabytes }
      },
    },
  },
  flags: [
    {
      name: 'megabytes',
      field: 'megabytes',
      type: 'integer',
      description: 'MB written to /tmp',
      default: 100,
    },
    {
      name: 'keep',
      field: 'keep',
      type: 'boolean',
      description: 'keep the files for later invocations (within the bound set in code)',
    },
  ],
}

/**
 * Fills the function's `/tmp` while the chaos config has a `diskspace` fault:
 * before the handler, `megabytes` MB are written (in 1 MB chunks, never past
 * the free space less `reserveMb`, nor past the deadline), and removed when
 * the invocation ends, however it ends; or kept for later invocations with
 * `keep: true`, within `maxKeptMb`, for `keepFor`. Files a crashed process
 * left are removed at the next cold start.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosDiskspace } from '@middy-chaos/diskspace'
 *
 * export const handler = middy(lambdaHandler).use(chaosDiskspace())
 * // {"version":1,"faults":[{"type":"diskspace","megabytes":400}]}
 * ```
 */
export const chaosDiskspace = (options: ChaosDiskspaceOptions = {}): MiddlewareObj => {
  checkOptions(options)
  const middleware = createFaultMiddleware(diskspaceFault, options)
  const before = middleware.before
  if (before === undefined) return middleware
  // Kept files end with their time even if the fault no longer fires (the experiment is over).
  const chaosDiskspaceBefore = (request: Request) => {
    if (kept.length > 0) releaseKept(Date.now())
    return before(request)
  }
  return { ...middleware, before: chaosDiskspaceBefore }
}
