/**
 * Applying `set` / `remove` edits by path ({@link PathEdit}, read by
 * `alter.ts`) **copy-on-write**: the object a caller passed or a handler
 * returned (perhaps cached, perhaps frozen) is never mutated, and what an edit
 * does not touch is shared, not copied. Only own data properties of plain
 * objects and elements of arrays are followed.
 *
 * @module
 */
import type { PathEdit } from './alter.js'

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
