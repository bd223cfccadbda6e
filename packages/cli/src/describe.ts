import { parseConfig } from '@middy-chaos/core'

const faultText = (type: string, fields: Readonly<Record<string, unknown>>): string => {
  switch (type) {
    case 'latency': {
      const delay = fields.delay
      if (typeof delay === 'number') return `latency ${delay}ms`
      if (typeof delay === 'object' && delay !== null) {
        const range = delay as { min?: unknown; max?: unknown }
        return `latency ${range.min}-${range.max}ms`
      }
      return 'latency'
    }
    case 'status_code':
      return `status code ${fields.statusCode ?? '?'}`
    default:
      return type.replace(/_/g, ' ')
  }
}

/**
 * One short phrase for what a config value does: `latency 400ms`,
 * `status code 404`, `exception`, `faults off`, `invalid: fault_type: ...`.
 */
export const describeConfig = (value: unknown): string => {
  if (value === undefined) return 'no value (faults off)'
  const { document, issues } = parseConfig(value)
  if (!document.enabled || document.faults.length === 0) {
    return issues.length > 0 ? `invalid (${issues[0]?.path}: ${issues[0]?.message})` : 'faults off'
  }
  return document.faults
    .map((fault) => {
      const text = faultText(fault.type, fault.fields)
      return fault.rate < 1 ? `${text} (rate ${fault.rate})` : text
    })
    .join(' + ')
}
