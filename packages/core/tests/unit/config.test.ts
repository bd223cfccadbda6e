import { describe, expect, it } from 'vitest'
import { untypedConfig } from '../../../../test/helpers/index.js'
import { ChaosConfigError, parseConfig, parseConfigOrThrow } from '../../src/index.js'

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
    const { document, issues } = parseConfig(
      untypedConfig({
        version: 1,
        faults: [
          { type: 'latency', delay: 1, rate: 'often' },
          'nope',
          { delay: 3 },
          { type: 'exception' },
        ],
      }),
    )
    expect(document.faults.map((fault) => fault.type)).toEqual(['exception'])
    expect(issues).toEqual([
      { path: 'faults[0].rate', message: 'must be a number from 0 to 1 (got "often")' },
      { path: 'faults[1]', message: 'must be an object (got string)' },
      { path: 'faults[2].type', message: 'must be a fault type such as "latency" (got nothing)' },
    ])
  })

  it('rejects an unknown version', () => {
    const { document, issues } = parseConfig(untypedConfig({ version: 2, faults: [] }))
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
    const config = untypedConfig({ faults: [1, 2] })
    expect(() => parseConfigOrThrow(config)).toThrow(ChaosConfigError)
    expect(() => parseConfigOrThrow(config)).toThrow(
      'Invalid chaos configuration: faults[0]: must be an object (got number); faults[1]: must be an object (got number)',
    )
  })
})
