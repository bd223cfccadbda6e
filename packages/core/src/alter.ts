/**
 * What the faults that alter what passes through a handler share
 * (`@middy-chaos/event` before it, `@middy-chaos/response` after it): reading
 * `set` / `remove` edits by path and one change of a body from a config entry,
 * and applying them **copy-on-write**: the object a caller passed or a handler
 * returned (perhaps cached, perhaps frozen) is never mutated, and what an edit
 * does not touch is shared, not copied.
 *
 * | field | value | meaning |
 * | --- | --- | --- |
 * | `set` | `[{ "path": "items.0.price", "value": -1 }]` | writes a JSON value at each path |
 * | `remove` | `["user.email", ["headers", "x.forwarded"]]` (or one path) | removes each path |
 * | `body` | a string, or a JSON value written out | replaces the body |
 * | `truncate` | integer | keeps the first N characters of the body (bytes of a base64 body) |
 * | `mangle` | `true` | failure-lambda's corruption: cut at 30 to 80 % and `"\uFFFD\uFFFD\uFFFD"` appended |
 * | `invalidJson` | `true` | a JSON body that no longer parses: its last character (an object's `}`) removed |
 *
 * Paths are read as targeting reads them ({@link parsePathSpec}); only own
 * data properties of plain objects and elements of arrays are followed.
 *
 * @module
 */
import type { FieldReader } from './fields.js'
import { parsePathSpec } from './match.js'
import { describeValue, isRecord } from './util.js'

/** Bounds on what an altering fault's entry may ask. */
export const ALTER_LIMITS = Object.freeze({
  /** `set` and `remove` edits of one entry, together. */
  edits: 20,
  /** Characters of one `set` value, written as JSON. */
  valueLength: 65_536,
  /** Characters of a replacement `body`. */
  bodyLength: 1_048_576,
  /** Largest `truncate` (Lambda's 6 MB payload). */
  truncateLength: 6_291_456,
})

/** One edit by path, as read from a config entry. */
export interface PathEdit {
  readonly op: 'set' | 'remove'
  /** The path as the config wrote it, for log lines: `items.0.price`, `["headers","x.y"]`. */
  readonly label: string
  readonly segments: readonly string[]
  /**
   * `set` only: the value as JSON text, parsed afresh for every invocation, so
   * that nothing a handler does to it can reach the config or the next invocation.
   */
  readonly json?: string
}

/** One change of a body, as read from a config entry. */
export type BodyChange =
  /** `text` is the new body; `json` is set when the config gave a JSON value rather than a string. */
  | { readonly kind: 'replace'; readonly text: string; readonly json?: string }
  | { readonly kind: 'truncate'; readonly length: number }
  | { readonly kind: 'mangle' }
  | { readonly kind: 'invalidJson' }

/** The body-changing fields, in the order they are reported. */
export const BODY_FIELDS = ['body', 'truncate', 'mangle', 'invalidJson'] as const

/**
 * Whether an entry's field asks for a change: present, and not a flag turned
 * off (`"mangle": false`, `"invalidJson": false`). `"body": false` is a body
 * (the JSON `false`), so it does.
 */
export const asksForChange = (fields: FieldReader, name: string): boolean =>
  fields.has(name) && !(fields.raw(name) === false && name !== 'body')

const labelOf = (raw: unknown): string => (typeof raw === 'string' ? raw : JSON.stringify(raw))

const startsWith = (long: readonly string[], short: readonly string[]): boolean =>
  short.length <= long.length && short.every((segment, i) => long[i] === segment)

/**
 * Reads `set` and `remove` of an entry. An entry that says two things about a
 * path (the same path twice, or a path and one inside it) is reported, as is
 * anything past {@link ALTER_LIMITS}. Returns `undefined` when neither field
 * is given or on any issue (recorded on `fields`).
 */
export const readPathEdits = (fields: FieldReader): PathEdit[] | undefined => {
  const edits: PathEdit[] = []
  let ok = true
  const path = (name: string, raw: unknown): string[] | undefined => {
    const parsed = parsePathSpec(raw)
    if ('segments' in parsed) return parsed.segments
    ok = false
    fields.issue(parsed.index === undefined ? name : `${name}[${parsed.index}]`, parsed.error)
    return undefined
  }
  const set = fields.raw('set')
  if (set !== undefined) {
    if (!Array.isArray(set) || set.length === 0) {
      return fields.issue(
        'set',
        `must be an array of { "path": "a.b", "value": … } (got ${Array.isArray(set) ? 'an empty array' : describeValue(set)})`,
      )
    }
    if (set.length > ALTER_LIMITS.edits)
      return fields.issue(
        'set',
        `must hold at most ${ALTER_LIMITS.edits} edits (got ${set.length})`,
      )
    for (const [index, entry] of set.entries()) {
      const at = `set[${index}]`
      if (!isRecord(entry)) {
        ok = false
        fields.issue(
          at,
          `must be an object { "path": "a.b", "value": … } (got ${describeValue(entry)})`,
        )
        continue
      }
      const extra = Object.keys(entry).find((key) => key !== 'path' && key !== 'value')
      if (extra !== undefined) {
        ok = false
        fields.issue(
          `${at}.${extra.length > 40 ? `${extra.slice(0, 40)}…` : extra}`,
          'is not a field of a set edit (expected "path" and "value")',
        )
        continue
      }
      const segments = path(`${at}.path`, entry.path)
      let json: string | undefined
      try {
        json = entry.value === undefined ? undefined : JSON.stringify(entry.value)
      } catch {
        json = undefined
      }
      if (json === undefined) {
        ok = false
        fields.issue(`${at}.value`, 'is required: a JSON value (null to write null)')
        continue
      }
      if (json.length > ALTER_LIMITS.valueLength) {
        ok = false
        fields.issue(
          `${at}.value`,
          `must be at most ${ALTER_LIMITS.valueLength} characters as JSON (got ${json.length})`,
        )
        continue
      }
      if (segments) edits.push({ op: 'set', label: labelOf(entry.path), segments, json })
    }
  }
  const removeRaw = fields.raw('remove')
  if (removeRaw !== undefined) {
    const list = typeof removeRaw === 'string' ? [removeRaw] : removeRaw
    const single = typeof removeRaw === 'string'
    if (!Array.isArray(list) || list.length === 0) {
      return fields.issue(
        'remove',
        `must be a path or an array of paths such as ["user.email"] (got ${Array.isArray(list) ? 'an empty array' : describeValue(list)})`,
      )
    }
    const total = edits.length + list.length
    if (total > ALTER_LIMITS.edits)
      return fields.issue(
        'remove',
        `set and remove must hold at most ${ALTER_LIMITS.edits} edits together (got ${total})`,
      )
    for (const [index, raw] of list.entries()) {
      const segments = path(single ? 'remove' : `remove[${index}]`, raw)
      if (segments) edits.push({ op: 'remove', label: labelOf(raw), segments })
    }
  }
  if (!ok) return undefined
  for (const [i, edit] of edits.entries()) {
    for (const other of edits.slice(0, i)) {
      if (startsWith(edit.segments, other.segments) || startsWith(other.segments, edit.segments)) {
        return fields.issue(
          edit.op,
          `says two things about one path: ${other.op} ${other.label} and ${edit.op} ${edit.label} (give each path once, and no path inside another)`,
        )
      }
    }
  }
  return edits.length === 0 ? undefined : edits
}

/**
 * Reads the one change of a body an entry may ask for: `body`, `truncate`,
 * `mangle` or `invalidJson`. More than one is reported (an entry says one thing
 * about a body); `mangle: false` and `invalidJson: false` are the same as absent.
 */
export const readBodyChange = (fields: FieldReader): BodyChange | undefined => {
  const changes: BodyChange[] = []
  const given: string[] = []
  let ok = true
  if (fields.has('body')) {
    given.push('body')
    const raw = fields.raw('body')
    if (typeof raw === 'string') {
      if (raw.length > ALTER_LIMITS.bodyLength) {
        ok = false
        fields.issue(
          'body',
          `must be at most ${ALTER_LIMITS.bodyLength} characters (got ${raw.length})`,
        )
      } else changes.push({ kind: 'replace', text: raw })
    } else {
      let json: string | undefined
      try {
        json = JSON.stringify(raw)
      } catch {
        json = undefined
      }
      if (json === undefined) {
        ok = false
        fields.issue('body', 'must be a string or a JSON value that can be written out')
      } else if (json.length > ALTER_LIMITS.bodyLength) {
        ok = false
        fields.issue(
          'body',
          `must be at most ${ALTER_LIMITS.bodyLength} characters as JSON (got ${json.length})`,
        )
      } else changes.push({ kind: 'replace', text: json, json })
    }
  }
  if (fields.has('truncate')) {
    given.push('truncate')
    const length = fields.number('truncate', {
      min: 0,
      max: ALTER_LIMITS.truncateLength,
      integer: true,
      unit: 'characters',
    })
    if (length === undefined) ok = false
    else changes.push({ kind: 'truncate', length })
  }
  for (const name of ['mangle', 'invalidJson'] as const) {
    const flag = fields.boolean(name)
    if (fields.has(name) && flag === undefined) ok = false
    if (flag === true) {
      given.push(name)
      changes.push({ kind: name })
    }
  }
  if (given.length > 1)
    return fields.issue(
      given[1] as string,
      `conflicts with "${given[0]}": an entry changes the body one way (one of ${BODY_FIELDS.map((f) => `"${f}"`).join(', ')})`,
    )
  return ok ? changes[0] : undefined
}

// ---------------------------------------------------------------------------
// Applying edits, copy-on-write

type Container = Record<string, unknown> | unknown[]

/** A plain object (`{}`, `Object.create(null)`) or an array: what edits may go through and copy. */
const isContainer = (value: unknown): value is Container => {
  if (Array.isArray(value)) return true
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A canonical array index (`"0"`, `"17"`), or -1. */
const indexOf = (key: string): number => {
  const index = Number(key)
  return Number.isSafeInteger(index) && index >= 0 && String(index) === key ? index : -1
}

/** Own data property `key`, `undefined` if absent; `null` marks an accessor (not followed). */
const ownData = (container: Container, key: string): { value: unknown } | undefined | null => {
  if (Array.isArray(container)) {
    const index = indexOf(key)
    if (index === -1 || index >= container.length) return undefined
  }
  const descriptor = Object.getOwnPropertyDescriptor(container, key)
  if (descriptor === undefined) return undefined
  return 'value' in descriptor ? { value: descriptor.value } : null
}

const copyOf = (container: Container): Container => {
  if (Array.isArray(container)) return container.slice()
  const copy = Object.create(Object.getPrototypeOf(container)) as Record<string, unknown>
  for (const key of Object.keys(container)) {
    const descriptor = Object.getOwnPropertyDescriptor(container, key)
    if (descriptor !== undefined && 'value' in descriptor) define(copy, key, descriptor.value)
  }
  return copy
}

/** Writes an own property (never through a setter, never `__proto__`'s). */
const define = (target: Container, key: string, value: unknown): void => {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  })
}

/** What {@link applyEdits} did. */
export interface EditOutcome {
  /** The new root (the old one when nothing applied). */
  readonly value: unknown
  /** Labels of the edits that applied. */
  readonly applied: string[]
  /** `label: reason` of those that did not (a path that is not there, not an object…). */
  readonly skipped: string[]
}

/**
 * Applies edits in order to `root` without mutating it or anything in it: the
 * objects and arrays on each edited path are copied (once), everything else is
 * shared. `set` creates missing objects along its path and may append to an
 * array (index = length), never leaving holes; `remove` deletes a key, or takes
 * an element out of an array (later indexes move down). Only plain objects and
 * arrays are gone through: a path through a string, a class instance or a
 * getter is skipped. Values are parsed afresh from their JSON every time.
 *
 * @example
 * ```ts
 * const { value } = applyEdits(event, [{ op: 'remove', label: 'a.b', segments: ['a', 'b'] }])
 * // event is unchanged; value.a is a copy without b; the rest of value is event's
 * ```
 */
export const applyEdits = (root: unknown, edits: readonly PathEdit[]): EditOutcome => {
  const applied: string[] = []
  const skipped: string[] = []
  if (!isContainer(root)) {
    for (const edit of edits) skipped.push(`${edit.label}: not an object or an array`)
    return { value: root, applied, skipped }
  }
  /** Containers made here: written in place, never copied again. */
  const mine = new WeakSet<object>()
  const own = (container: Container): Container => {
    if (mine.has(container)) return container
    const copy = copyOf(container)
    mine.add(copy)
    return copy
  }
  let top: Container = root
  for (const edit of edits) {
    const result = applyOne(top, edit, own, mine)
    if (typeof result === 'string') skipped.push(`${edit.label}: ${result}`)
    else {
      top = result
      applied.push(edit.label)
    }
  }
  return { value: top, applied, skipped }
}

/** One edit on `top`: the new top, or why it does not apply. Nothing is written until the path is known to hold. */
const applyOne = (
  top: Container,
  edit: PathEdit,
  own: (container: Container) => Container,
  mine: WeakSet<object>,
): Container | string => {
  const { segments } = edit
  // Walk first, so that a path that does not hold copies nothing.
  const chain: Container[] = [top]
  for (const [depth, key] of segments.slice(0, -1).entries()) {
    const current = chain[depth] as Container
    const found = ownData(current, key)
    if (found === null) return `"${key}" is a getter`
    if (found === undefined) {
      if (edit.op === 'remove') return 'not found'
      if (Array.isArray(current)) return `no element ${key} to go through`
      break // set: the rest is created
    }
    if (!isContainer(found.value))
      return `"${key}" is ${found.value === null ? 'null' : Array.isArray(found.value) ? 'an array' : typeof found.value === 'object' ? 'not a plain object' : `a ${typeof found.value}`}`
    chain.push(found.value)
  }
  const last = segments.at(-1) as string
  const parentDepth = segments.length - 1
  if (chain.length === segments.length) {
    const parent = chain[parentDepth] as Container
    if (Array.isArray(parent)) {
      const index = indexOf(last)
      const limit = edit.op === 'set' ? parent.length : parent.length - 1
      if (index === -1 || index > limit)
        return edit.op === 'set' ? `no index ${last} (length ${parent.length})` : 'not found'
    } else if (edit.op === 'remove') {
      const found = ownData(parent, last)
      if (found === undefined) return 'not found'
      if (found === null) return `"${last}" is a getter`
    } else if (ownData(parent, last) === null) return `"${last}" is a getter`
  }
  // Copy the chain (objects of this invocation are reused), then write.
  const copies = chain.map((container) => own(container))
  for (let depth = 1; depth < copies.length; depth++) {
    define(copies[depth - 1] as Container, segments[depth - 1] as string, copies[depth])
  }
  let parent = copies.at(-1) as Container
  for (let depth = copies.length - 1; depth < parentDepth; depth++) {
    const created: Record<string, unknown> = {}
    mine.add(created)
    define(parent, segments[depth] as string, created)
    parent = created
  }
  if (edit.op === 'set') {
    define(parent, last, JSON.parse(edit.json as string))
  } else if (Array.isArray(parent)) {
    parent.splice(indexOf(last), 1)
  } else {
    delete parent[last]
  }
  return copies[0] as Container
}

/**
 * The short words `describe` uses for a body change and path edits, for
 * `chaos status` and the experiment plan: `body truncated to 10, set items.0.price`.
 * Edits past the third are counted, not listed. `prefix` goes before each path
 * (`body.` when the paths point into a JSON body).
 */
export const describeChanges = (
  body: BodyChange | undefined,
  edits: readonly PathEdit[] = [],
  prefix = '',
): string[] => {
  const parts: string[] = []
  if (body !== undefined)
    parts.push(
      body.kind === 'truncate'
        ? `body truncated to ${body.length}`
        : body.kind === 'replace'
          ? 'body replaced'
          : body.kind === 'mangle'
            ? 'body mangled'
            : 'body made invalid JSON',
    )
  for (const edit of edits.slice(0, 3)) parts.push(`${edit.op} ${prefix}${edit.label}`)
  if (edits.length > 3) parts.push(`${edits.length - 3} more edits`)
  return parts
}

// ---------------------------------------------------------------------------
// Bodies

/** A body after a change, or why the change does not apply. */
export type BodyOutcome =
  | {
      readonly ok: true
      readonly body: string
      /** Whether the new body is base64 (a replacement is always plain text). */
      readonly base64: boolean
      /** For the log line: what was done and the lengths, never the content. */
      readonly details: Record<string, unknown>
    }
  | { readonly ok: false; readonly reason: string }

/** `text` cut to at most `length` UTF-16 units, never in the middle of a surrogate pair. */
const cut = (text: string, length: number): string => {
  if (text.length <= length) return text
  const code = text.charCodeAt(length - 1)
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length)
}

const REPLACEMENT = '\uFFFD\uFFFD\uFFFD'

/** failure-lambda's cut point: between 30 % and 80 % of the length. */
const manglePoint = (length: number): number => Math.floor(length * (0.3 + Math.random() * 0.5))

const parsesAsJson = (text: string): { value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) }
  } catch {
    return undefined
  }
}

/** A valid JSON text made invalid: its last character removed (a number, still valid so, gets a stray `}`). */
const invalidate = (text: string): string => {
  const trimmed = text.trimEnd()
  const last = trimmed.charCodeAt(trimmed.length - 1)
  return last >= 48 && last <= 57 ? `${trimmed}}` : trimmed.slice(0, -1)
}

/**
 * Applies a {@link BodyChange} to a body. A base64 body (`isBase64Encoded`) is
 * decoded first and encoded back: `truncate` and `mangle` count its bytes,
 * `invalidJson` reads it as UTF-8 JSON; a replacement is plain text (the
 * caller sets `isBase64Encoded` to the outcome's `base64`). Never throws.
 *
 * @example
 * ```ts
 * changeBody('{"ok":true}', false, { kind: 'invalidJson' }) // { ok: true, body: '{"ok":true', … }
 * ```
 */
export const changeBody = (body: string, base64: boolean, change: BodyChange): BodyOutcome => {
  if (change.kind === 'replace') {
    return {
      ok: true,
      body: change.text,
      base64: false,
      details: { bodyLength: change.text.length, ...(base64 ? { wasBase64: true } : {}) },
    }
  }
  const bytes = base64 ? Buffer.from(body, 'base64') : undefined
  if (change.kind === 'invalidJson') {
    const text = bytes ? bytes.toString('utf8') : body
    if (parsesAsJson(text) === undefined) return { ok: false, reason: 'the body is not JSON' }
    const out = invalidate(text)
    return {
      ok: true,
      body: bytes ? Buffer.from(out, 'utf8').toString('base64') : out,
      base64,
      details: {},
    }
  }
  const length = bytes ? bytes.length : body.length
  if (change.kind === 'mangle' && length === 0) return { ok: false, reason: 'the body is empty' }
  const keep = change.kind === 'truncate' ? Math.min(length, change.length) : manglePoint(length)
  const suffix = change.kind === 'mangle' ? REPLACEMENT : ''
  let out: string
  let newLength: number
  if (bytes) {
    const kept = Buffer.concat([bytes.subarray(0, keep), Buffer.from(suffix, 'utf8')])
    out = kept.toString('base64')
    newLength = kept.length
  } else {
    out = cut(body, keep) + suffix
    newLength = out.length
  }
  return {
    ok: true,
    body: out,
    base64,
    details: {
      originalBodyLength: length,
      bodyLength: newLength,
      lengthUnit: bytes ? 'bytes' : 'characters',
    },
  }
}

/**
 * Applies {@link PathEdit}s inside a JSON body (base64 bodies decoded as UTF-8
 * and encoded back), by {@link applyEdits}. Never throws.
 */
export const editJsonBody = (
  body: string,
  base64: boolean,
  edits: readonly PathEdit[],
): BodyOutcome => {
  const text = base64 ? Buffer.from(body, 'base64').toString('utf8') : body
  const parsed = parsesAsJson(text)
  if (parsed === undefined) return { ok: false, reason: 'the body is not JSON' }
  const outcome = applyEdits(parsed.value, edits)
  if (outcome.applied.length === 0)
    return { ok: false, reason: `no edit applies (${outcome.skipped.join('; ')})` }
  const out = JSON.stringify(outcome.value)
  return {
    ok: true,
    body: base64 ? Buffer.from(out, 'utf8').toString('base64') : out,
    base64,
    details: {
      edited: outcome.applied,
      ...(outcome.skipped.length > 0 ? { skippedEdits: outcome.skipped } : {}),
    },
  }
}
