/**
 * What the faults that alter what passes through a handler share
 * (`@middy-chaos/event` before it, `@middy-chaos/response` after it): reading
 * `set` / `remove` edits by path and one change of a body from a config entry
 * (here), applying the edits copy-on-write (`edits.ts`) and changing a body
 * (`body.ts`).
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
import { parsePathSpec } from './path.js'
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
