/**
 * SSM Automation's `{{ variable }}` substitution and the simple JSONPath
 * selectors of step outputs (`$.Parameter.Value`, `$.Payload.items[0]`).
 *
 * @module
 */
import { isRecord } from '@middy-chaos/core'

/** `{{ Name }}`, `{{Name}}`, `{{ step.Output }}`, `{{ automation:EXECUTION_ID }}`. */
const VARIABLE = /\{\{\s*([^{}]+?)\s*\}\}/g

/** The global variables Automation offers. */
export const GLOBAL_VARIABLES = [
  'global:ACCOUNT_ID',
  'global:REGION',
  'global:AWS_PARTITION',
  'global:DATE',
  'global:DATE_TIME',
] as const
/** The one automation variable. */
export const EXECUTION_ID_VARIABLE = 'automation:EXECUTION_ID'

/** Every variable named in a value (strings inside lists and maps too). */
export const variablesIn = (value: unknown): string[] => {
  if (typeof value === 'string') return [...value.matchAll(VARIABLE)].map((match) => match[1] ?? '')
  if (Array.isArray(value)) return value.flatMap(variablesIn)
  if (isRecord(value)) return Object.values(value).flatMap(variablesIn)
  return []
}

/** A variable that has no value (yet): the step that would use it fails. */
export class UnresolvedVariableError extends Error {
  public constructor(public readonly variable: string) {
    super(`{{ ${variable} }} has no value`)
    this.name = 'UnresolvedVariableError'
  }
}

/**
 * Substitutes variables in an input. A string that is exactly one variable
 * takes the variable's value with its type (a StringList stays a list); in a
 * longer string each variable is written as text.
 */
export const substitute = (value: unknown, lookup: (name: string) => unknown): unknown => {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/.exec(value)
    if (whole) return resolve(whole[1] ?? '', lookup)
    return value.replace(VARIABLE, (_, name: string) => asText(resolve(name, lookup)))
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, lookup))
  if (isRecord(value))
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, lookup)]),
    )
  return value
}

const resolve = (name: string, lookup: (name: string) => unknown): unknown => {
  const value = lookup(name)
  if (value === undefined) throw new UnresolvedVariableError(name)
  return value
}

/** A value as text: strings as they are, anything else as JSON. */
export const asText = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value)

type Segment = string | number

/** The segments of a simple JSONPath (`$.a.b[0]['c']`), or `undefined` if it is not one. */
export const parseSelector = (selector: string): Segment[] | undefined => {
  if (!selector.startsWith('$')) return undefined
  const segments: Segment[] = []
  const token = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y
  token.lastIndex = 1
  while (token.lastIndex < selector.length) {
    const match = token.exec(selector)
    if (!match) return undefined
    const [, dotted, index, single, double] = match
    segments.push(index !== undefined ? Number(index) : (dotted ?? single ?? double ?? ''))
  }
  return segments
}

/** What a simple JSONPath selects; `undefined` when nothing is there. */
export const select = (value: unknown, selector: string): unknown => {
  const segments = parseSelector(selector)
  if (segments === undefined) return undefined
  let current: unknown = value
  for (const segment of segments) {
    if (typeof segment === 'number') current = Array.isArray(current) ? current[segment] : undefined
    else current = isRecord(current) ? current[segment] : undefined
    if (current === undefined) return undefined
  }
  return current
}

/** The types of Automation parameters and outputs. */
export const VALUE_TYPES = [
  'String',
  'StringList',
  'Integer',
  'Boolean',
  'StringMap',
  'MapList',
] as const
export type ValueType = (typeof VALUE_TYPES)[number]

/**
 * A value converted to an Automation type, as a parameter given as text (FIS's
 * `documentParameters`) or an output is; throws when it cannot be.
 */
export const toType = (value: unknown, type: ValueType): unknown => {
  const fromText = (text: string): unknown => {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  switch (type) {
    case 'String':
      if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string')
        return value[0]
      if (typeof value === 'string') return value
      if (typeof value === 'number' || typeof value === 'boolean') return String(value)
      break
    case 'Integer': {
      const number = typeof value === 'string' ? Number(value.trim()) : value
      if (typeof number === 'number' && Number.isInteger(number)) return number
      break
    }
    case 'Boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === 'false') return value === 'true'
      break
    case 'StringList': {
      const list = typeof value === 'string' ? [value] : value
      if (Array.isArray(list) && list.every((item) => typeof item === 'string')) return list
      break
    }
    case 'StringMap': {
      const map = typeof value === 'string' ? fromText(value) : value
      if (isRecord(map)) return map
      break
    }
    case 'MapList': {
      const list = typeof value === 'string' ? fromText(value) : value
      if (Array.isArray(list) && list.every(isRecord)) return list
      break
    }
  }
  throw new Error(`${JSON.stringify(value)} is not a ${type}`)
}
