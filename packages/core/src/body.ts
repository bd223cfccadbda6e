/**
 * Changing a body (`body`, `truncate`, `mangle`, `invalidJson`: a
 * {@link BodyChange} read by `alter.ts`), and path edits inside a JSON body.
 *
 * @module
 */
import type { BodyChange, PathEdit } from './alter.js'
import { applyEdits } from './edits.js'

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
