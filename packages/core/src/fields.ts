import type { ConfigIssue } from './issue.js'
import { describeValue as describe } from './util.js'

type NumberRule = {
  min?: number
  max?: number
  integer?: boolean
  unit?: string
}

const range = ({ min, max, integer, unit }: NumberRule): string => {
  const kind = integer ? 'an integer' : 'a number'
  const suffix = unit ? ` ${unit}` : ''
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}${suffix}`
  if (min !== undefined) return `${kind} of at least ${min}${suffix}`
  if (max !== undefined) return `${kind} of at most ${max}${suffix}`
  return kind
}

/** Bounds of HTTP headers in a fault entry (`headers` of status-code and response). */
export const HEADER_LIMITS = Object.freeze({
  /** Entries of one headers object. */
  headers: 20,
  nameLength: 256,
  valueLength: 8192,
})

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** What a header value must not hold: line breaks (header injection) and NUL. */
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/

/** Whether a string is a header name within {@link HEADER_LIMITS}. */
export const isHeaderName = (name: unknown): name is string =>
  typeof name === 'string' && name.length <= HEADER_LIMITS.nameLength && HEADER_NAME.test(name)

/**
 * Reads and validates the fields of one fault entry. Every problem is recorded
 * as an issue naming the field (by the name the document used) and the reason;
 * nothing here throws.
 *
 * @example
 * ```ts
 * const delay = fields.number('delay', { min: 0, max: 900_000, integer: true, unit: 'ms' })
 * ```
 */
export class FieldReader {
  readonly #raw: Readonly<Record<string, unknown>>
  readonly #prefix: string
  readonly #aliases: Readonly<Record<string, string>>
  readonly #issues: ConfigIssue[]

  public constructor(
    raw: Readonly<Record<string, unknown>>,
    prefix: string,
    issues: ConfigIssue[],
    aliases: Readonly<Record<string, string>> = {},
  ) {
    this.#raw = raw
    this.#prefix = prefix
    this.#issues = issues
    this.#aliases = aliases
  }

  /** The path of a field as the document spells it, for messages. */
  public path(name: string): string {
    const field = this.#aliases[name] ?? name
    return this.#prefix ? `${this.#prefix}.${field}` : field
  }

  /** Records a problem with a field. Returns `undefined` so a parser can `return fields.issue(…)`. */
  public issue(name: string, message: string): undefined {
    this.#issues.push({ path: this.path(name), message })
    return undefined
  }

  public has(name: string): boolean {
    return this.#raw[name] !== undefined
  }

  public raw(name: string): unknown {
    return this.#raw[name]
  }

  public number(name: string, rule: NumberRule & { default: number }): number
  public number(name: string, rule?: NumberRule): number | undefined
  public number(name: string, rule: NumberRule & { default?: number } = {}): number | undefined {
    const value = this.#raw[name]
    if (value === undefined) return rule.default
    return this.check(name, value, rule)
  }

  /** Validates a number that did not come straight from a field (e.g. `delay.min`). */
  public check(name: string, value: unknown, rule: NumberRule): number | undefined {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!rule.integer || Number.isInteger(value)) &&
      (rule.min === undefined || value >= rule.min) &&
      (rule.max === undefined || value <= rule.max)
    if (ok) return value
    this.issue(name, `must be ${range(rule)} (got ${describe(value)})`)
    return undefined
  }

  public string(name: string, rule: { default: string; maxLength?: number }): string
  public string(name: string, rule?: { maxLength?: number }): string | undefined
  public string(
    name: string,
    rule: { default?: string; maxLength?: number } = {},
  ): string | undefined {
    const value = this.#raw[name]
    if (value === undefined) return rule.default
    if (typeof value !== 'string') {
      this.issue(name, `must be a string (got ${describe(value)})`)
      return undefined
    }
    if (rule.maxLength !== undefined && value.length > rule.maxLength) {
      this.issue(name, `must be at most ${rule.maxLength} characters (got ${value.length})`)
      return undefined
    }
    return value
  }

  public boolean(name: string, rule: { default: boolean }): boolean
  public boolean(name: string, rule?: { default?: boolean }): boolean | undefined
  public boolean(name: string, rule: { default?: boolean } = {}): boolean | undefined {
    const value = this.#raw[name]
    if (value === undefined) return rule.default
    if (typeof value !== 'boolean') {
      this.issue(name, `must be true or false (got ${describe(value)})`)
      return undefined
    }
    return value
  }

  public oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.#raw[name]
    if (value === undefined) return undefined
    if (typeof value === 'string' && (values as readonly string[]).includes(value))
      return value as T
    this.issue(
      name,
      `must be one of ${values.map((v) => `"${v}"`).join(', ')} (got ${describe(value)})`,
    )
    return undefined
  }

  /**
   * HTTP headers: a flat object of at most 20 header names (RFC 9110 tokens,
   * each named once whatever its case) to values without line breaks, within
   * {@link HEADER_LIMITS}. `undefined` when absent or on any issue.
   */
  public headers(name: string): Record<string, string> | undefined {
    const headers = this.stringRecord(name)
    if (headers === undefined) return undefined
    const entries = Object.entries(headers)
    if (entries.length > HEADER_LIMITS.headers)
      return this.issue(
        name,
        `must hold at most ${HEADER_LIMITS.headers} headers (got ${entries.length})`,
      )
    const seen = new Map<string, string>()
    for (const [header, value] of entries) {
      const label = `${name}.${header.length > 40 ? `${header.slice(0, 40)}…` : header}`
      if (!isHeaderName(header))
        return this.issue(
          label,
          `must be a header name: 1 to ${HEADER_LIMITS.nameLength} letters, digits or !#$%&'*+.^_\`|~-`,
        )
      if (value.length > HEADER_LIMITS.valueLength || HEADER_VALUE_FORBIDDEN.test(value))
        return this.issue(
          label,
          `must be at most ${HEADER_LIMITS.valueLength} characters without line breaks (got ${value.length} characters)`,
        )
      const earlier = seen.get(header.toLowerCase())
      if (earlier !== undefined)
        return this.issue(label, `names the same header as "${earlier}" (header names ignore case)`)
      seen.set(header.toLowerCase(), header)
    }
    return headers
  }

  /** A flat object of string values. */
  public stringRecord(name: string): Record<string, string> | undefined {
    const value = this.#raw[name]
    if (value === undefined) return undefined
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.issue(name, `must be an object of strings (got ${describe(value)})`)
      return undefined
    }
    const out: Record<string, string> = {}
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== 'string') {
        this.issue(`${name}.${key}`, `must be a string (got ${describe(entry)})`)
        return undefined
      }
      out[key] = entry
    }
    return out
  }
}
