import middy from '@middy/core'
import { describe, expect, it, vi } from 'vitest'
import { makeContext, restApiEvent, untypedConfig } from '../../../../test/helpers/index.js'
import { createFaultMiddleware, type FaultDefinition, type TracerLike } from '../../src/index.js'

/** A subsegment as the X-Ray SDK makes one: annotations, metadata, children. */
class FakeSubsegment {
  public readonly parent: object = {}
  public in_progress = true
  public annotations: Record<string, unknown> = {}
  public metadata: Record<string, Record<string, unknown>> = {}
  public readonly children: FakeSubsegment[] = []
  public constructor(public readonly name: string) {}
  public addAnnotation(key: string, value: unknown) {
    this.annotations[key] = value
  }
  public addMetadata(key: string, value: unknown, namespace = 'default') {
    this.metadata[namespace] ??= {}
    ;(this.metadata[namespace] as Record<string, unknown>)[key] = value
  }
  public addNewSubsegment(name: string) {
    const child = new FakeSubsegment(name)
    this.children.push(child)
    return child
  }
  public close() {
    this.in_progress = false
  }
}

const tracerOf = (segment: FakeSubsegment, enabled = true) => {
  const calls: string[] = []
  const tracer: TracerLike = {
    isTracingEnabled: () => {
      calls.push('isTracingEnabled')
      return enabled
    },
    getSegment: () => {
      calls.push('getSegment')
      return segment
    },
  }
  return { tracer, calls }
}

/** A fault whose details are a long text and an object, as a config can make them. */
const noisyFault: FaultDefinition<{ body: string }> = {
  type: 'noisy',
  phases: ['before'],
  defaultPhase: 'before',
  parse: (fields) => ({ body: fields.string('body', { maxLength: 100_000 }) ?? '' }),
  plan: () => ({
    details: { headers: { 'x-a': 'b' }, hosts: ['a', 'b'], ratio: Number.NaN },
    run: () => undefined,
  }),
}

describe('facts of a fault in a trace', () => {
  it('are bounded: strings cut at 256 characters, no objects, no non-finite numbers', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined)
    const handler = new FakeSubsegment('## index.handler')
    const { tracer } = tracerOf(handler)
    const chain = middy(async () => 'ok').use(
      createFaultMiddleware(noisyFault, {
        tracer,
        config: untypedConfig({
          version: 1,
          faults: [{ type: 'noisy', body: 'x'.repeat(10_000) }],
        }),
      }),
    )

    await chain(restApiEvent(), makeContext())

    const facts = handler.metadata.chaos?.noisy as Record<string, unknown>
    expect(facts).toEqual({
      faultType: 'noisy',
      phase: 'before',
      rate: 1,
      body: 'x'.repeat(256),
      hosts: ['a', 'b'],
    })
    // Nothing waited and nothing thrown: the marker is the annotated handler subsegment itself.
    expect(handler.annotations).toEqual({ ChaosInjected: true, ChaosFault: 'noisy' })
    expect(handler.children).toEqual([])
  })

  it('with tracing off, the tracer is asked whether it traces, and nothing else', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined)
    const handler = new FakeSubsegment('## index.handler')
    const { tracer, calls } = tracerOf(handler, false)
    const chain = middy(async () => 'ok').use(
      createFaultMiddleware(noisyFault, {
        tracer,
        config: untypedConfig({ version: 1, faults: [{ type: 'noisy', body: 'x' }] }),
      }),
    )

    await chain(restApiEvent(), makeContext())

    expect(calls).toEqual(['isTracingEnabled'])
    expect(handler.annotations).toEqual({})
  })

  it('several faults in one subsegment are listed in ChaosFault', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined)
    const handler = new FakeSubsegment('## index.handler')
    const { tracer } = tracerOf(handler)
    const other = { ...noisyFault, type: 'other' }
    const config = untypedConfig({
      version: 1,
      faults: [
        { type: 'noisy', body: 'x' },
        { type: 'other', body: 'y' },
      ],
    })
    const chain = middy(async () => 'ok')
      .use(createFaultMiddleware(noisyFault, { tracer, config }))
      .use(createFaultMiddleware(other, { tracer, config }))

    await chain(restApiEvent(), makeContext())

    expect(handler.annotations).toEqual({ ChaosInjected: true, ChaosFault: 'noisy,other' })
    expect(Object.keys(handler.metadata.chaos ?? {})).toEqual(['noisy', 'other'])
  })
})
