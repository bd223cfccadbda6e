import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { describe, expect, it } from 'vitest'
import {
  helloWorld,
  makeContext,
  untypedConfig,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import { ChaosInjectedError, chaosException } from '../src/index.js'

const workshop = {
  is_enabled: true,
  fault_type: 'exception',
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
}

describe('chaosException', () => {
  const logs = useCapturedLogs()

  it('throws before the handler by default: the handler does not run', async () => {
    let ran = false
    const handler = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosException({ config: workshop }))
    const error = await handler({}, makeContext()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ChaosInjectedError)
    expect(error).toMatchObject({
      name: 'ChaosInjectedError',
      message: 'Fault injected by chaos-lambda',
    })
    expect(ran).toBe(false)
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'exception', phase: 'before', message: 'Fault injected by chaos-lambda' },
    })
  })

  it('throws after the handler when asked: the handler ran', async () => {
    let ran = false
    const handler = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosException({ config: workshop, phase: 'after' }))
    await expect(handler({}, makeContext())).rejects.toThrow('Fault injected by chaos-lambda')
    expect(ran).toBe(true)
  })

  it('throws the error class given in code, with the name the config gives', async () => {
    class DownstreamTimeout extends Error {}
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'exception', message: 'db timeout', errorName: 'TimeoutError' }],
    }
    const handler = middy(helloWorld).use(chaosException({ config, errorClass: DownstreamTimeout }))
    const error = await handler({}, makeContext()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DownstreamTimeout)
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'db timeout' })
  })

  it('uses the message from code when the config gives none', async () => {
    const config: ChaosConfig = { version: 1, faults: [{ type: 'exception' }] }
    const handler = middy(helloWorld).use(chaosException({ config, message: 'from code' }))
    await expect(handler({}, makeContext())).rejects.toThrow('from code')
  })

  it('lets other middlewares handle the error in onError', async () => {
    const handler = middy(helloWorld)
      .use({
        onError: (request) => {
          request.response = { statusCode: 500, body: (request.error as Error).message }
        },
      })
      .use(chaosException({ config: workshop }))
    expect(await handler({}, makeContext())).toEqual({
      statusCode: 500,
      body: 'Fault injected by chaos-lambda',
    })
  })

  it('rejects a message that is not a string', async () => {
    const config = untypedConfig({ version: 1, faults: [{ type: 'exception', message: 42 }] })
    expect(await middy(helloWorld).use(chaosException({ config }))({}, makeContext())).toEqual(
      await helloWorld(),
    )
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      'faults[0].message: must be a string (got 42)',
    ])
  })

  it("throwing before the handler does not skip Powertools Logger's cleanup", async () => {
    const logger = new Logger({ serviceName: 'hello' })
    const handler = middy(helloWorld)
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use({
        before: () => {
          logger.appendKeys({ tenant: 'acme' })
        },
      })
      .use(chaosException({ config: workshop }))
    await expect(handler({}, makeContext())).rejects.toThrow(ChaosInjectedError)
    logger.info('after the invocation')
    const last = logs.lines.at(-1)
    expect(last?.message).toBe('after the invocation')
    expect(last).not.toHaveProperty('tenant')
  })
})
