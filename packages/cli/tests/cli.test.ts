import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { assertCliBuilt, fixtures, runCli, startCli } from './helpers.js'

const BEFORE =
  '{"is_enabled":true,"fault_type":"latency","delay":50,"error_code":404,"exception_msg":"pre-existing","rate":0.25}'

/** Two faults with a long wait between them: the test interrupts it during the wait. */
const longExperiment = {
  name: 'interrupted',
  steps: [
    {
      name: 'S01_EnableLatency',
      set: { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 },
    },
    { name: 'S02_Wait1', wait: '1m' },
    {
      name: 'S03_EnableStatusCode',
      set: { is_enabled: true, fault_type: 'status_code', error_code: 404 },
    },
    { name: 'S04_Wait2', wait: '1m' },
  ],
}

let dir: string
beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-cli-'))
  await writeFile(join(dir, 'long.json'), JSON.stringify(longExperiment))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('experiment run, interrupted with SIGINT', () => {
  it('puts the file store back to its exact pre-experiment value, and the history shows the restore', async () => {
    // Prepare
    const param = join(dir, 'file-store.json')
    await writeFileValue(param, BEFORE, { label: 'setup' })

    // Act
    const cli = startCli([
      'experiment',
      'run',
      join(dir, 'long.json'),
      '--store',
      'file',
      '--param',
      param,
    ])
    await cli.waitFor(/S02_Wait1\s+running/)
    expect(await readFile(param, 'utf8')).toContain('"delay":400')
    cli.child.kill('SIGINT')
    const { code } = await cli.exited

    // Assess
    expect(code).toBe(130)
    expect(await readFile(param, 'utf8')).toBe(BEFORE)
    const history = await readFileHistory(param)
    // S02_Wait1 renews S01's value as it starts, its stamp capped at the wait's end.
    expect(history.map((entry) => [entry.version, entry.label])).toEqual([
      [1, 'setup'],
      [2, 'experiment interrupted: S01_EnableLatency'],
      [3, 'experiment interrupted: S01_EnableLatency'],
      [4, 'experiment interrupted: restore'],
    ])
    expect(history.at(-1)?.value).toBe(BEFORE)
    expect(cli.stdout()).toMatch(/■ \[\d\d:\d\d\.\d\] S02_Wait1\s+interrupted/)
    expect(cli.stdout()).toContain(
      `Restored file:${param} to its pre-experiment value (now version 4)`,
    )
    expect(cli.stdout()).not.toContain('S03_EnableStatusCode')
  })

  it('puts the SSM parameter (moto) back to its exact pre-experiment value, and GetParameterHistory shows the restore', async () => {
    // Prepare
    const endpoint = inject('motoEndpoint')
    const ssm = new SSMClient({ endpoint, region: 'us-east-1' })
    const name = `/middy-chaos/cli-test/${Date.now()}`
    await ssm.send(new PutParameterCommand({ Name: name, Value: BEFORE, Type: 'String' }))

    // Act
    const cli = startCli(
      [
        'experiment',
        'run',
        join(dir, 'long.json'),
        '--store',
        'ssm',
        '--param',
        name,
        '--endpoint',
        endpoint,
      ],
      { env: { AWS_REGION: 'us-east-1' } },
    )
    await cli.waitFor(/S02_Wait1\s+running/)
    cli.child.kill('SIGINT')
    const { code } = await cli.exited

    // Assess
    expect(code).toBe(130)
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }))
    expect(Parameter?.Value).toBe(BEFORE)
    expect(Parameter?.Version).toBe(4)
    const { Parameters = [] } = await ssm.send(new GetParameterHistoryCommand({ Name: name }))
    expect(Parameters.map((p) => p.Version)).toEqual([1, 2, 3, 4])
    expect([Parameters[0]?.Value, Parameters[3]?.Value]).toEqual([BEFORE, BEFORE])
    // The step's value, stamped with the dead-man's expiry; then renewed as S02_Wait1 starts.
    for (const written of Parameters.slice(1, 3))
      expect(JSON.parse(written.Value ?? '')).toEqual({
        ...longExperiment.steps[0]?.set,
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      })
    expect(cli.stdout()).toContain(
      `Restored ssm:${name} to its pre-experiment value (now version 4)`,
    )
  })

  it('restores on SIGTERM too, exiting 143', async () => {
    const param = join(dir, 'sigterm.json')
    await writeFileValue(param, BEFORE)
    const cli = startCli(['experiment', 'run', join(dir, 'long.json'), '--param', param])
    await cli.waitFor(/S02_Wait1\s+running/)
    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(143)
    expect(await readFile(param, 'utf8')).toBe(BEFORE)
  })
})

describe('user errors', () => {
  const expectOneLine = (
    result: { code: number | null; stderr: string; stdout: string },
    pattern: RegExp,
  ) => {
    expect(result.code).not.toBe(0)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(pattern)
    expect(result.stderr + result.stdout).not.toMatch(/\n\s+at /)
  }

  it('CHAOS_PARAM set without saying which store holds it', async () => {
    const result = await runCli(['enable', 'latency'], {
      env: { CHAOS_PARAM: '/hello/chaos', CHAOS_STORE: undefined },
    })
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe(
      'middy-chaos: CHAOS_PARAM is set (/hello/chaos) but not which store holds it: add --store ssm or --store file (or set CHAOS_STORE)',
    )
  })

  it('a missing experiment file', async () => {
    expectOneLine(
      await runCli(['experiment', 'run', join(dir, 'nope.json')]),
      /^middy-chaos: experiment file not found: .*nope\.json$/m,
    )
  })

  it('an invalid experiment', async () => {
    const file = join(dir, 'invalid.json')
    await writeFile(
      file,
      JSON.stringify({
        name: 'x',
        steps: [{ name: 'a', set: { is_enabled: true, fault_type: 'latency', delay: 'slow' } }],
      }),
    )
    expectOneLine(
      await runCli(['experiment', 'run', file]),
      /^middy-chaos: invalid experiment .*invalid\.json: steps\[0\]\.set\.delay: /m,
    )
  })

  it('an unknown handler export', async () => {
    expectOneLine(
      await runCli(['serve', join(fixtures, 'handlers.mjs'), '--export', 'nope', '--port', '0']),
      /^middy-chaos: handler module .* has no function export "nope"/m,
    )
  })

  it('a port in use', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    try {
      expectOneLine(
        await runCli([
          'serve',
          join(fixtures, 'handlers.mjs'),
          '--export',
          'hello',
          '--port',
          String(port),
        ]),
        new RegExp(`^middy-chaos: port ${port} is already in use on 127\\.0\\.0\\.1`, 'm'),
      )
    } finally {
      blocker.close()
    }
  })

  it('an unreachable SSM store, before anything is changed', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as { port: number }
    await new Promise((resolve) => closed.close(resolve))
    expectOneLine(
      await runCli([
        'experiment',
        'run',
        join(dir, 'long.json'),
        '--store',
        'ssm',
        '--param',
        '/x',
        '--endpoint',
        `http://127.0.0.1:${port}`,
      ]),
      // The lease comes first: it reads the parameter's type (a SecureString's lease is one too)
      /^middy-chaos: cannot read the type of ssm:\/x \(SSM at http:\/\/127\.0\.0\.1:\d+\): .*ECONNREFUSED/m,
    )
  })

  it('an unknown option', async () => {
    const result = await runCli(['status', '--stor', 'ssm'])
    expect(result.code).toBe(2)
    expectOneLine(result, /^middy-chaos: Unknown option '--stor'/m)
  })
})

describe('serve --store ssm', () => {
  it('the served middlewares read the SSM parameter (moto) that enable and disable write', async () => {
    // Prepare
    const endpoint = inject('motoEndpoint')
    const name = `/middy-chaos/serve-test/${Date.now()}`
    const store = ['--store', 'ssm', '--param', name, '--endpoint', endpoint]
    const env = { AWS_REGION: 'us-east-1' }
    expect(
      (await runCli(['enable', 'status_code', '--error-code', '418', ...store], { env })).code,
    ).toBe(0)
    const server = startCli(
      ['serve', join(fixtures, 'chaos-handler.mjs'), '--port', '0', '--max-age', '0', ...store],
      { env },
    )
    try {
      const [, url] = (await server.waitFor(/Listening on (http:\/\/\S+)/)) as unknown as [
        string,
        string,
      ]

      // Act + Assess: the fault from SSM, then none once disabled
      const faulty = await fetch(url)
      expect([faulty.status, await faulty.text()]).toEqual([418, 'Hello from Lambda!'])
      expect((await runCli(['disable', ...store], { env })).code).toBe(0)
      const healthy = await fetch(url)
      expect([healthy.status, await healthy.text()]).toEqual([200, 'Hello from Lambda!'])
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })
})

describe('probe', () => {
  it('--count n makes exactly n requests', async () => {
    const server = startCli([
      'serve',
      join(fixtures, 'handlers.mjs'),
      '--export',
      'hello',
      '--port',
      '0',
    ])
    try {
      const [, url] = (await server.waitFor(/Listening on (http:\/\/\S+)/)) as unknown as [
        string,
        string,
      ]
      const result = await runCli(['probe', url, '--count', '3', '--interval', '50ms'])
      expect(result.code).toBe(0)
      expect(result.stdout.match(/^Hello from Lambda! - 200 - \d+\.\d{6}$/gm)).toHaveLength(3)
      expect(result.stdout).toMatch(/3 requests/)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })
})

describe('status, enable, disable, set', () => {
  it('switch the workshop faults on and off in the file store', async () => {
    const param = join(dir, 'manual.json')
    const run = (...args: string[]) => runCli([...args, '--param', param])

    expect((await run('enable', 'status_code', '--error-code', '503')).code).toBe(0)
    expect(JSON.parse(await readFile(param, 'utf8'))).toMatchObject({
      is_enabled: true,
      fault_type: 'status_code',
      error_code: 503,
    })

    const status = await run('status')
    expect(status.stdout).toMatch(/version\s+1/)
    expect(status.stdout).toMatch(/faults\s+status code 503/)

    expect((await run('disable')).code).toBe(0)
    expect(JSON.parse(await readFile(param, 'utf8'))).toEqual({
      is_enabled: false,
      fault_type: 'status_code',
      delay: 400,
      error_code: 503,
      exception_msg: 'Fault injected by chaos-lambda',
      rate: 1,
    })

    const refused = await run('set', '{"version":1,"faults":[{"type":"latency","delay":-5}]}')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(
      /^middy-chaos: invalid chaos config: faults\[0\]\.delay: .*nothing written/,
    )
    expect((await readFileHistory(param)).length).toBe(2)

    expect((await run('set', '{"version":1,"faults":[{"type":"latency","delay":5}]}')).code).toBe(0)
    expect((await run('status')).stdout).toMatch(/faults\s+latency 5ms/)
  })
})
