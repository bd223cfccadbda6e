import { describe, expect, it } from 'vitest'
import { ChaosConfigError, parseConfig, parseConfigOrThrow } from '../../src/index.js'

const workshop = (overrides: Record<string, unknown> = {}) => ({
  is_enabled: true,
  fault_type: 'latency',
  delay: 400,
  error_code: 404,
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
  ...overrides,
})

describe('parseConfig: chaos_lambda format', () => {
  it('reads the workshop latency value as one latency fault with its delay', () => {
    const { document, issues } = parseConfig(JSON.stringify(workshop()))
    expect(issues).toEqual([])
    expect(document.format).toBe('chaos_lambda')
    expect(document.enabled).toBe(true)
    expect(document.faults).toHaveLength(1)
    expect(document.faults[0]).toMatchObject({ type: 'latency', rate: 1, fields: { delay: 400 } })
  })

  it('maps error_code to statusCode and exception_msg to message', () => {
    const status = parseConfig(workshop({ fault_type: 'status_code' })).document.faults[0]
    const exception = parseConfig(workshop({ fault_type: 'exception' })).document.faults[0]
    expect(status?.fields).toMatchObject({ statusCode: 404 })
    expect(status?.aliases).toEqual({ statusCode: 'error_code' })
    expect(exception?.fields).toMatchObject({ message: 'Fault injected by chaos-lambda' })
  })

  it('treats is_enabled false, or missing, as no faults', () => {
    expect(parseConfig(workshop({ is_enabled: false })).document.enabled).toBe(false)
    const { is_enabled: _, ...withoutFlag } = workshop()
    expect(parseConfig(withoutFlag).document.enabled).toBe(false)
  })

  it('takes a missing rate as 1 and keeps rate 0', () => {
    const { rate: _, ...withoutRate } = workshop()
    expect(parseConfig(withoutRate).document.faults[0]?.rate).toBe(1)
    expect(parseConfig(workshop({ rate: 0 })).document.faults[0]?.rate).toBe(0)
  })

  it('names the field and the reason when the rate is out of range', () => {
    const { document, issues } = parseConfig(workshop({ rate: 1.5 }))
    expect(document.faults).toEqual([])
    expect(issues).toEqual([{ path: 'rate', message: 'must be a number from 0 to 1 (got 1.5)' }])
  })

  it('reports a missing fault_type', () => {
    const { issues } = parseConfig({ is_enabled: true })
    expect(issues[0]?.path).toBe('fault_type')
  })
})

describe('parseConfig: middy-chaos format', () => {
  it('reads several faults, each with its own rate and phase', () => {
    const { document, issues } = parseConfig({
      version: 1,
      faults: [
        { type: 'latency', delay: { min: 100, max: 300 }, rate: 0.5 },
        { type: 'status-code', statusCode: 503, phase: 'before', preventExecution: true },
        { type: 'exception', message: 'boom', enabled: false },
      ],
    })
    expect(issues).toEqual([])
    expect(document.faults.map((fault) => [fault.type, fault.rate, fault.phase])).toEqual([
      ['latency', 0.5, undefined],
      ['status_code', 1, 'before'],
    ])
  })

  it('skips only the invalid entries and names each problem', () => {
    const { document, issues } = parseConfig({
      version: 1,
      faults: [
        { type: 'latency', delay: 1, rate: 'often' },
        'nope',
        { delay: 3 },
        { type: 'exception' },
      ],
    })
    expect(document.faults.map((fault) => fault.type)).toEqual(['exception'])
    expect(issues).toEqual([
      { path: 'faults[0].rate', message: 'must be a number from 0 to 1 (got "often")' },
      { path: 'faults[1]', message: 'must be an object (got string)' },
      { path: 'faults[2].type', message: 'must be a fault type such as "latency" (got nothing)' },
    ])
  })

  it('rejects an unknown version', () => {
    const { document, issues } = parseConfig({ version: 2, faults: [] })
    expect(document.faults).toEqual([])
    expect(issues[0]).toEqual({
      path: 'version',
      message: 'unsupported version 2 (this library reads version 1)',
    })
  })

  it('honours the document-wide enabled switch', () => {
    const { document } = parseConfig({
      version: 1,
      enabled: false,
      faults: [{ type: 'latency', delay: 1 }],
    })
    expect(document.enabled).toBe(false)
  })

  it('reads bytes as AppConfig returns them', () => {
    const bytes = new TextEncoder().encode('{"version":1,"faults":[{"type":"latency","delay":5}]}')
    expect(parseConfig(bytes).document.faults).toHaveLength(1)
  })
})

describe('parseConfig: values that are not documents', () => {
  it.each([
    ['not json{', '(document)', /is not valid JSON/],
    ['', '(document)', /the value is empty/],
    ['[1,2]', '(document)', /must be a JSON object \(got an array\)/],
    ['42', '(document)', /must be a JSON object \(got number\)/],
  ])('reports %j without throwing', (input, path, message) => {
    const { document, issues } = parseConfig(input)
    expect(document.faults).toEqual([])
    expect(issues[0]?.path).toBe(path)
    expect(issues[0]?.message).toMatch(message)
  })

  it('parseConfigOrThrow lists every issue in one error', () => {
    expect(() => parseConfigOrThrow({ faults: [1, 2] })).toThrow(ChaosConfigError)
    expect(() => parseConfigOrThrow({ faults: [1, 2] })).toThrow(
      'Invalid chaos configuration: faults[0]: must be an object (got number); faults[1]: must be an object (got number)',
    )
  })
})
