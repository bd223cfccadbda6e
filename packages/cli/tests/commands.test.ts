/**
 * The commands run in-process (`main(argv, terminal)`): help, the registry of
 * faults, and what `set`, `enable` and `experiment validate` refuse.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, readFileHistory, writeFileValue } from '@middy-chaos/core'
import { FAULTS } from '@middy-chaos/experiment'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cpuBurnFault } from '../../../test/fixtures/packages/cpu-burn/src/index.js'
import { COMMANDS } from '../src/commands/index.js'
import { globalHelp } from '../src/main.js'
import { runMain } from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-commands-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The registry's fault types, as the messages list them (the workshop's three first). */
const known = FAULTS.map((fault) => fault.type).join(', ')

let count = 0
const freshParam = () => join(dir, `config-${++count}.json`)

describe('help', () => {
  it('prints the global help, made from every command', async () => {
    const { code, stdout } = await runMain(['--help'])
    expect(code).toBe(0)
    expect(stdout.trim()).toBe(globalHelp())
    for (const command of COMMANDS) expect(stdout).toContain(`middy-chaos ${command.usage[0]}`)
  })

  it("prints a command's own help for <command> --help and help <command>", async () => {
    for (const command of COMMANDS) {
      const flag = await runMain([command.name, '--help'])
      const word = await runMain(['help', command.name])
      expect(flag.code).toBe(0)
      expect(flag.stdout).toMatch(new RegExp(`^middy-chaos ${command.name}`))
      expect(flag.stdout).not.toContain('Config store options (every command')
      expect(word.stdout).toBe(flag.stdout)
    }
  })

  it('lists every fault of the registry, with its flags, in the help of enable', async () => {
    const { stdout } = await runMain(['enable', '--help'])
    for (const fault of FAULTS) {
      expect(stdout).toContain(`  ${fault.type}: ${fault.summary}`)
      for (const flag of fault.flags ?? []) expect(stdout).toContain(`--${flag.name}`)
    }
  })
})

describe('disable', () => {
  it.each([
    [
      'failure-lambda 1.x',
      {
        latency: { enabled: true, min_latency: 100, max_latency: 400 },
        denylist: { enabled: true, deny_list: ['s3.*.amazonaws.com'] },
        exception: { enabled: false, exception_msg: 'boom' },
      },
      {
        latency: { enabled: false, min_latency: 100, max_latency: 400 },
        denylist: { enabled: false, deny_list: ['s3.*.amazonaws.com'] },
        exception: { enabled: false, exception_msg: 'boom' },
      },
    ],
    [
      'failure-lambda document with 0.x keys and 1.x flags (read as 1.x)',
      {
        isEnabled: true,
        failureMode: 'latency',
        rate: 1,
        latency: { enabled: true, min_latency: 300, max_latency: 300 },
      },
      {
        isEnabled: false,
        failureMode: 'latency',
        rate: 1,
        latency: { enabled: false, min_latency: 300, max_latency: 300 },
      },
    ],
    [
      'failure-lambda 0.x',
      { isEnabled: true, failureMode: 'latency', rate: 1, minLatency: 100, maxLatency: 400 },
      { isEnabled: false, failureMode: 'latency', rate: 1, minLatency: 100, maxLatency: 400 },
    ],
    [
      'chaos_lambda',
      { is_enabled: true, fault_type: 'status_code', error_code: 503, rate: 1 },
      { is_enabled: false, fault_type: 'status_code', error_code: 503, rate: 1 },
    ],
    [
      'middy-chaos',
      { version: 1, faults: [{ type: 'latency', delay: 400 }] },
      { version: 1, faults: [{ type: 'latency', delay: 400 }], enabled: false },
    ],
  ])('turns every fault of a %s value off in its own format, settings kept', async (_, on, off) => {
    // Prepare
    const param = freshParam()
    await writeFile(param, JSON.stringify(on))

    // Act
    const { code, stderr } = await runMain(['disable', '--param', param])

    // Assess: the value is off as its own format reads it, and core finds no fault in it
    expect(code, stderr).toBe(0)
    const written = JSON.parse(await readFile(param, 'utf8'))
    expect(written).toMatchObject(off)
    expect(
      parseConfig(written).document.enabled && parseConfig(written).document.faults.length,
    ).toBeFalsy()
  })
})

describe('set and experiment validate refuse invalid entries, and write nothing', () => {
  const invalid = [
    {
      entry: { type: 'aws_sdk', error: 'not a name!', httpStatusCode: 42 },
      says: /faults\[0\]\.httpStatusCode: must be an integer from 400 to 599 \(got 42\).*faults\[0\]\.error: must be a name/,
    },
    {
      entry: { type: 'batch_failure', recordRate: 7 },
      says: /faults\[0\]\.recordRate: must be a number from 0 to 1 \(got 7\)/,
    },
    {
      entry: { type: 'point', name: 'orders.save', error: 'SaveFailedError', calls: 'second' },
      says: /faults\[0\]\.calls: must be "all", "first", "first:K" or "every:N"/,
    },
    {
      entry: { type: 'latncy' },
      says: new RegExp(`faults\\[0\\]\\.type: unknown fault type "latncy" \\(known: ${known}\\)`),
    },
  ]

  it.each(invalid)('set refuses $entry.type', async ({ entry, says }) => {
    // Prepare
    const param = freshParam()
    await writeFileValue(param, '{"is_enabled":false}')

    // Act
    const value = JSON.stringify({ version: 1, faults: [entry] })
    const result = await runMain(['set', value, '--store', 'file', '--param', param])

    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(says)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(await readFile(param, 'utf8')).toBe('{"is_enabled":false}')
    expect(await readFileHistory(param)).toHaveLength(1)
  })

  it.each(invalid)('experiment validate refuses $entry.type', async ({ entry, says }) => {
    // Prepare
    const file = join(dir, `experiment-${++count}.json`)
    await writeFile(
      file,
      JSON.stringify({ name: 'x', steps: [{ name: 'on', set: { version: 1, faults: [entry] } }] }),
    )

    // Act
    const result = await runMain(['experiment', 'validate', file])

    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^middy-chaos: invalid experiment .*steps\[0\]\.set\.faults\[0\]/)
    expect(result.stderr).toMatch(says)
  })

  it('set refuses an unknown chaos_lambda fault_type too', async () => {
    const param = freshParam()
    const result = await runMain([
      'set',
      '{"is_enabled":true,"fault_type":"explode"}',
      '--store',
      'file',
      '--param',
      param,
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/fault_type: unknown fault type "explode" \(known: latency/)
    expect(existsSync(param)).toBe(false)
  })

  it('enable refuses an unknown fault, naming the known ones', async () => {
    const param = freshParam()
    const result = await runMain(['enable', 'latncy', '--store', 'file', '--param', param])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`middy-chaos: enable: unknown fault "latncy" (known: ${known})\n`)
    expect(existsSync(param)).toBe(false)
  })

  it("enable refuses another fault's flag, and a value its fault refuses", async () => {
    const param = freshParam()
    const flag = await runMain(['enable', 'latency', '--error-code', '503', '--param', param])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe(
      'middy-chaos: --error-code is not a flag of latency (its flags: --delay)\n',
    )
    const value = await runMain(['enable', 'latency', '--delay=-5', '--param', param])
    expect(value.code).toBe(2)
    expect(value.stderr).toMatch(/delay: must be an integer from 0 to 900000 ms \(got -5\)/)
    expect(existsSync(param)).toBe(false)
  })
})

describe('enable writes each fault in a format that reads it', () => {
  it("writes the workshop's chaos_lambda value for the workshop's faults, stopping in 1 h", async () => {
    const param = freshParam()
    const before = Date.now()
    expect((await runMain(['enable', 'latency', '--param', param])).code).toBe(0)
    const after = Date.now()
    const text = await readFile(param, 'utf8')
    expect(text).toMatch(
      /^\{"is_enabled":true,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1,"expiresAt":"[^"]+"\}$/,
    )
    // An hour after the moment of the write, which lies within the command
    const expiresAt = Date.parse(JSON.parse(text).expiresAt)
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(expiresAt).toBeLessThanOrEqual(after + 3_600_000)
  })

  it('keeps faults on until disabled with --for never, and for the time asked with --for', async () => {
    const param = freshParam()
    await runMain(['enable', 'exception', '--for', 'never', '--param', param])
    expect(JSON.parse(await readFile(param, 'utf8'))).not.toHaveProperty('expiresAt')
    const before = Date.now()
    await runMain(['enable', 'exception', '--for', '5m', '--param', param])
    const after = Date.now()
    const { expiresAt } = JSON.parse(await readFile(param, 'utf8'))
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(before + 300_000)
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(after + 300_000)
    expect((await runMain(['enable', '--for', '13h', '--param', param])).code).toBe(2)
  })

  it("writes middy-chaos's format for a fault chaos_lambda cannot spell", async () => {
    const param = freshParam()
    const result = await runMain([
      'enable',
      'batch_failure',
      '--record-rate',
      '0.25',
      '--param',
      param,
    ])
    expect(result.code).toBe(0)
    expect(JSON.parse(await readFile(param, 'utf8'))).toEqual({
      version: 1,
      faults: [{ type: 'batch_failure', recordRate: 0.25 }],
      expiresAt: expect.any(String),
    })
    expect(result.stdout).toMatch(/batch failure 25% of records/)
  })
})

describe('enable point: a failure point in the code, from flags', () => {
  it('writes the point, its labels as an object, and what it does; status describes it', async () => {
    // Prepare
    const param = freshParam()

    // Act
    const result = await runMain([
      'enable',
      'point',
      '--name',
      'orders.charge',
      '--labels',
      'provider=stripe,region=eu-*',
      '--delay',
      '300',
      '--calls',
      'first',
      '--param',
      param,
    ])
    const status = await runMain(['status', '--param', param])

    // Assess
    expect(result.code).toBe(0)
    expect(JSON.parse(await readFile(param, 'utf8'))).toEqual({
      version: 1,
      faults: [
        {
          type: 'point',
          name: 'orders.charge',
          labels: { provider: 'stripe', region: 'eu-*' },
          delay: 300,
          calls: 'first',
        },
      ],
      expiresAt: expect.any(String),
    })
    expect(status.stdout).toMatch(
      /faults +point orders\.charge\{provider=stripe,region=eu-\*\}: \+300ms, first call/,
    )
  })

  it('writes an error with its message', async () => {
    const param = freshParam()
    const result = await runMain([
      'enable',
      'point',
      '--name=orders.save',
      '--error=SaveFailedError',
      '--message=table unavailable',
      '--param',
      param,
    ])
    expect(result.code).toBe(0)
    expect(JSON.parse(await readFile(param, 'utf8')).faults).toEqual([
      {
        type: 'point',
        name: 'orders.save',
        error: 'SaveFailedError',
        message: 'table unavailable',
      },
    ])
  })

  it.each([
    [['--labels', 'provider'], /--labels: expected key=value pairs, comma-separated/],
    [['--labels', 'a=1,a=2'], /--labels: expected key=value pairs, comma-separated, each key once/],
    [
      ['--labels', '__proto__=x', '--delay', '1'],
      /faults\[0\]\.labels\.__proto__: must be a label name/,
    ],
    [['--delay', '1', '--calls', 'second'], /faults\[0\]\.calls: must be/],
    [[], /faults\[0\]\.delay: is required unless "error", "set" or "remove" is given/],
  ])('refuses %j, and writes nothing', async (flags, says) => {
    const param = freshParam()
    const result = await runMain(['enable', 'point', '--name', 'x', ...flags, '--param', param])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(says)
    expect(existsSync(param)).toBe(false)
  })
})

describe('a new fault package, with nothing changed but the registry line', () => {
  const withCpuBurn = { faults: [...FAULTS, cpuBurnFault] }

  it('is validated by set with its own rules', async () => {
    const param = freshParam()
    const good = '{"version":1,"faults":[{"type":"cpu_burn","percent":30}]}'
    const bad = '{"version":1,"faults":[{"type":"cpu","percent":300}]}'
    const refused = await runMain(['set', bad, '--param', param], withCpuBurn)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(
      /faults\[0\]\.percent: must be an integer from 1 to 100 \(got 300\)/,
    )
    const written = await runMain(['set', good, '--param', param], withCpuBurn)
    expect(written.code).toBe(0)
    expect(written.stdout).toMatch(/is now version 1: cpu burn 30% for 100ms/)
  })

  it('is described by status', async () => {
    const param = freshParam()
    await writeFileValue(param, '{"version":1,"faults":[{"type":"cpu_burn","durationMs":5}]}')
    const { stdout } = await runMain(['status', '--param', param], withCpuBurn)
    expect(stdout).toMatch(/faults\s+cpu burn 100% for 5ms/)
  })

  it('is offered by enable, with its flags and their defaults', async () => {
    const param = freshParam()
    const help = await runMain(['enable', '--help'], withCpuBurn)
    expect(help.stdout).toContain('cpu_burn: keeps a core busy for a while')
    expect(help.stdout).toContain('--duration-ms <integer>  how long, ms')
    const result = await runMain(
      ['enable', 'cpu_burn', '--duration-ms', '20', '--param', param],
      withCpuBurn,
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(await readFile(param, 'utf8'))).toEqual({
      version: 1,
      faults: [{ type: 'cpu_burn', percent: 50, durationMs: 20 }],
      expiresAt: expect.any(String),
    })
  })

  it('is unknown to a registry without its line', async () => {
    const param = freshParam()
    const result = await runMain([
      'set',
      '{"version":1,"faults":[{"type":"cpu_burn"}]}',
      '--param',
      param,
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unknown fault type "cpu_burn"/)
  })
})

describe('failure-lambda documents: what the translation would drop or skip is refused', () => {
  const BEFORE = '{"is_enabled":false}'
  const modes = 'latency, statuscode, exception, denylist, corruption, timeout, diskspace'
  const refused = [
    {
      value: '{"isEnabled":true,"failureMode":"explode","rate":1}',
      says: 'failureMode: "explode" is not a failure-lambda 0.x mode (known: latency, statuscode, exception, denylist, diskspace)',
    },
    {
      value: '{"isEnabled":"maybe","failureMode":"latency","rate":1}',
      says: 'isEnabled: must be true or false (got "maybe")',
    },
    {
      value: '{"latency":{"enabled":"maybe"}}',
      says: 'latency: enabled must be true or false (got "maybe") (failure-lambda skips this flag)',
    },
    {
      value:
        '{"latency":{"enabled":true,"min_latency":1,"max_latency":9,"match":[{"path":"a","operator":"regex","value":"a.*b"}]}}',
      says: 'latency: dropped: latency.match[0]: the regex "a.*b" is not an anchored literal',
    },
    {
      value:
        '{"latency":{"enabled":true,"min_latency":1,"max_latency":9},"explode":{"enabled":true}}',
      says: `explode: not a failure-lambda mode (known: ${modes})`,
    },
    {
      value: '{"explode":{"enabled":true}}',
      says: `(document): not a chaos config (got keys "explode"): write middy-chaos's {"version":1,"faults":[{"type":…}]} (fault types: ${known}), chaos_lambda's {"is_enabled":true,"fault_type":…}, or failure-lambda's {"<mode>":{"enabled":true,…}} (modes: ${modes})`,
    },
  ]

  it.each(refused)('set refuses $value, naming the part', async ({ value, says }) => {
    // Prepare
    const param = freshParam()
    await writeFileValue(param, BEFORE, { label: 'setup' })

    // Act
    const result = await runMain(['set', value, '--param', param])

    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain(`middy-chaos: invalid chaos config: ${says}`)
    expect(await readFile(param, 'utf8')).toBe(BEFORE)
    expect(await readFileHistory(param)).toHaveLength(1)
  })

  it('experiment validate and run refuse a step that sets one, and write nothing', async () => {
    // Prepare
    const param = freshParam()
    await writeFileValue(param, BEFORE, { label: 'setup' })
    const file = join(dir, `experiment-${++count}.json`)
    await writeFile(
      file,
      JSON.stringify({
        name: 'explode',
        steps: [{ name: 'on', set: { isEnabled: true, failureMode: 'explode' } }],
      }),
    )

    // Act
    const validate = await runMain(['experiment', 'validate', file])
    const run = await runMain(['experiment', 'run', file, '--param', param])

    // Assess
    for (const result of [validate, run]) {
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(
        /^middy-chaos: invalid experiment .*: steps\[0\]\.set\.failureMode: "explode" is not a failure-lambda 0\.x mode \(known: latency, /,
      )
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    }
    expect(await readFileHistory(param)).toHaveLength(1)
  })

  it('keeps an approximation a note, and writes the value', async () => {
    // Prepare
    const param = freshParam()
    const value = '{"latency":{"enabled":true,"rate":0.5,"min_latency":100,"max_latency":400}}'

    // Act
    const result = await runMain(['set', value, '--param', param])

    // Assess
    expect(result.code).toBe(0)
    expect(result.stderr).toBe(
      'note: latency: "rate" (a 1.0 pre-release spelling) read as the probability 0.5; failure-lambda 1.0 reads only "percentage" and would inject every time\n',
    )
    expect(JSON.parse(await readFile(param, 'utf8'))).toMatchObject(JSON.parse(value))
  })
})

describe('--force and --for never leave faults on by accident', () => {
  it('set --force writes a value with problems, says them, and still stamps expiresAt', async () => {
    // Prepare
    const param = freshParam()
    const value = '{"version":1,"faults":[{"type":"latency","delay":400},{"type":"explode"}]}'
    const before = Date.now()

    // Act
    const result = await runMain(['set', '--force', value, '--param', param])
    const after = Date.now()

    // Assess
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /^warning: faults\[1\]\.type: unknown fault type "explode" .*\(written anyway: --force\)\n$/,
    )
    const { expiresAt } = JSON.parse(await readFile(param, 'utf8'))
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(after + 3_600_000)
  })

  it.each([
    [['enable', 'latency', '--for', '0'], '0'],
    [['enable', 'latency', '--for', '-5s'], '-5s'],
    [['enable', 'latency', '--for=-5s'], '-5s'],
    [['set', '{"is_enabled":true,"fault_type":"latency","delay":400}', '--for', '0ms'], '0ms'],
    [['set', '--force', '{"version":1,"faults":[{"type":"x"}]}', '--for', '-1'], '-1'],
  ])('refuses %j: --for is more than 0, or never', async (argv, given) => {
    // Prepare
    const param = freshParam()
    await writeFileValue(param, '{"is_enabled":false}', { label: 'setup' })

    // Act
    const result = await runMain([...argv, '--param', param])

    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `middy-chaos: --for: "${given}" is not a duration more than 0 (examples: 30m, 1h; --for never keeps faults on until disabled)\n`,
    )
    expect(await readFileHistory(param)).toHaveLength(1)
  })

  it('reads --for in parts (1h30m) as the messages write durations, and names 12h as the bound', async () => {
    // Prepare
    const param = freshParam()

    // Act
    const started = Date.now()
    const ok = await runMain(['enable', 'latency', '--for', '1h30m', '--param', param])
    const ended = Date.now()
    const tooLong = await runMain(['enable', 'latency', '--for', '12h0.5s', '--param', param])

    // Assess
    expect(ok.code, ok.stderr).toBe(0)
    const { expiresAt } = JSON.parse(await readFile(param, 'utf8')) as { expiresAt: string }
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(started + 5_400_000)
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(ended + 5_400_000)
    expect(tooLong.code).toBe(2)
    expect(tooLong.stderr).toBe('middy-chaos: --for: "12h0.5s" is longer than the 12h allowed\n')
  })
})
