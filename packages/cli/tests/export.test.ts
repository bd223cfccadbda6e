// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
/**
 * `middy-chaos experiment export`, in-process: the experiment file as a
 * CloudFormation template, a runbook or FIS's create-experiment-template
 * input; mistakes refused with one `middy-chaos:` line.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { toFisExperiment } from '@middy-chaos/experiment'
import { buildRunbook, MAX_RUNBOOK_BYTES, runbookBytes, runbookContent } from '@middy-chaos/fis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { INLINE_TEMPLATE_BYTES } from '../src/commands/export.js'
import { loadExperiment } from '../src/runner/experiment-file.js'
import { repoRoot, runMain } from './helpers.js'

const workshop = join(repoRoot, 'examples/hello-world/experiments/workshop.json')
/** The workshop's experiment as a CloudFormation template for /chaos/hello-world; a test adds its options. */
const toCloudFormation = [
  'experiment',
  'export',
  workshop,
  '--to',
  'cloudformation',
  '--param',
  '/chaos/hello-world',
]
const LATENCY = { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 }
/** A KMS key in each form SSM's KeyId (the runbook's KmsKeyId) takes. */
const KMS_KEYS = {
  keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  alias: 'alias/chaos',
  aliasArn: 'arn:aws:kms:eu-west-1:123456789012:alias/chaos',
}
/** The condition of a grant on the keys that have the alias alias/chaos. */
const HAS_ALIAS = { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/chaos' } }
const ARNS = [
  '--document-arn',
  'arn:aws:ssm:eu-west-1:123456789012:document/middy-chaos-workshop',
  '--automation-role-arn',
  'arn:aws:iam::123456789012:role/middy-chaos-automation',
  '--fis-role-arn',
  'arn:aws:iam::123456789012:role/middy-chaos-fis',
  '--log-group-arn',
  'arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments:*',
]

let dir: string
let stopped: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-export-'))
  stopped = join(dir, 'stopped.json')
  await writeFile(
    stopped,
    JSON.stringify({
      name: 'stopped',
      parameter: '/chaos/from-the-file',
      stopConditions: [{ alarm: 'HelloWorldApi5XX' }, { probe: 'errors>20%' }],
      steps: [{ name: 'latency', set: LATENCY, wait: '2m' }],
    }),
  )
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('experiment export', () => {
  it('writes a CloudFormation template that parses, with the parameter given', async () => {
    // Prepare
    const out = join(dir, 'workshop.json')

    // Act
    const { code, stdout, stderr } = await runMain([...toCloudFormation, '--out', out])

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toMatch(
      /^Wrote .*workshop\.json \(\d+ bytes\): a CloudFormation template\. Deploy it with: aws cloudformation deploy --template-file \S+ --stack-name <name> --capabilities CAPABILITY_IAM\n$/,
    )
    const template = JSON.parse(await readFile(out, 'utf8'))
    expect(Object.keys(template.Resources).sort()).toEqual([
      'AutomationRole',
      'ExperimentTemplate',
      'FisRole',
      'LogGroup',
      'Runbook',
    ])
    expect(template.Parameters.ParameterName.Default).toBe('/chaos/hello-world')
    expect(template.Resources.Runbook.Properties.Content.parameters.LeaseTtlSeconds.default).toBe(
      '60',
    )
  })

  it('prints the deploy command with --s3-bucket for a template past the 51,200 bytes the AWS CLI sends inline', async () => {
    // Prepare: the workshop (about 49 KB) and the same steps with two more (about 58 KB)
    const longer = join(dir, 'longer.json')
    const steps = JSON.parse(await readFile(workshop, 'utf8')).steps as { name: string }[]
    await writeFile(
      longer,
      JSON.stringify({
        name: 'longer',
        steps: [
          ...steps,
          ...steps.slice(0, 2).map((step) => ({ ...step, name: `${step.name}_again` })),
        ],
      }),
    )
    const small = join(dir, 'small-template.json')
    const large = join(dir, 'large-template.json')

    // Act
    const under = await runMain([...toCloudFormation, '--out', small])
    const over = await runMain([
      'experiment',
      'export',
      longer,
      '--to',
      'cloudformation',
      '--param',
      '/chaos/hello-world',
      '--out',
      large,
    ])

    // Assess: the bytes named are the file's
    const [smallBytes, largeBytes] = [
      (await readFile(small)).length,
      (await readFile(large)).length,
    ]
    expect(smallBytes).toBeLessThanOrEqual(INLINE_TEMPLATE_BYTES)
    expect(largeBytes).toBeGreaterThan(INLINE_TEMPLATE_BYTES)
    expect(under.stdout).toContain(`(${smallBytes} bytes)`)
    expect(under.stdout).not.toContain('--s3-bucket')
    expect(over.stdout).toBe(
      `Wrote ${large} (${largeBytes} bytes): a CloudFormation template. Deploy it with: aws cloudformation deploy --template-file ${large} --stack-name <name> --capabilities CAPABILITY_IAM --s3-bucket <bucket> (the template is over the 51200 bytes the AWS CLI sends without a bucket)\n`,
    )
  })

  it('prints a deploy command that gives the template’s ParameterName when the export had no --param', async () => {
    // Prepare: neither --param nor the file's "parameter": the template's ParameterName has no default
    const out = join(dir, 'no-param.json')

    // Act
    const { code, stdout } = await runMain([
      'experiment',
      'export',
      workshop,
      '--to',
      'cloudformation',
      '--out',
      out,
    ])

    // Assess
    expect(code).toBe(0)
    const template = JSON.parse(await readFile(out, 'utf8'))
    expect(template.Parameters.ParameterName.Default).toBeUndefined()
    expect(stdout).toBe(
      `Wrote ${out} (${(await readFile(out)).length} bytes): a CloudFormation template. Deploy it with: aws cloudformation deploy --template-file ${out} --stack-name <name> --capabilities CAPABILITY_IAM --parameter-overrides 'ParameterName=<the chaos parameter, e.g. /chaos/hello-world>' (ParameterName has no default: export with --param to give it one)\n`,
    )
  })

  it('notes that FIS waits are whole minutes when the holds are shorter, naming PT1M and the length that results', async () => {
    // Act: the workshop with its three one-minute waits shortened to 4 s
    const shortened = await runMain([...toCloudFormation, '--wait', '4s'])
    const asWritten = await runMain(toCloudFormation)
    const runbookOnly = await runMain([
      'experiment',
      'export',
      workshop,
      '--to',
      'runbook',
      '--wait',
      '4s',
    ])

    // Assess: the FIS timeline holds 3 minutes while the automation holds 12 s
    expect(shortened.code).toBe(0)
    expect(shortened.stderr).toBe(
      'middy-chaos: note: FIS waits are whole minutes, at least PT1M: the holds of S02_Wait1 (4 s, PT1M), S04_Wait2 (4 s, PT1M), S06_Wait3 (4 s, PT1M) are waits of whole minutes on the FIS timeline, so the FIS experiment lasts at least 3 min while its automation holds 12 s (the automation, not the timeline, applies the faults)\n',
    )
    const template = JSON.parse(shortened.stdout)
    expect(template.Resources.ExperimentTemplate.Properties.Actions.S02_Wait1.Parameters).toEqual({
      duration: 'PT1M',
    })
    // Whole minutes say nothing; a runbook has no FIS timeline
    expect(asWritten.stderr).toBe('')
    expect(runbookOnly.stderr).toBe('')
  })

  it.each([
    ['JSON', [], (text: string) => JSON.parse(text)],
    ['YAML', ['--runbook-format', 'yaml'], (text: string) => parseYaml(text)],
  ])(
    'writes the %s runbook exactly as its size was checked: the file is the checked text',
    async (format, flags, parse) => {
      // Prepare
      const out = join(dir, `runbook.${format.toLowerCase()}`)
      const fis = toFisExperiment(await loadExperiment(workshop)).fis
      const runbook = buildRunbook(fis, { format: format as 'JSON' | 'YAML' })

      // Act
      const { code, stdout } = await runMain([
        'experiment',
        'export',
        workshop,
        '--to',
        'runbook',
        ...flags,
        '--out',
        out,
      ])

      // Assess
      expect(code).toBe(0)
      const written = await readFile(out)
      expect(written.toString('utf8')).toBe(runbookContent(runbook, format as 'JSON' | 'YAML'))
      expect(written.length).toBe(runbookBytes(runbook, format as 'JSON' | 'YAML'))
      expect(written.length).toBeLessThanOrEqual(MAX_RUNBOOK_BYTES)
      expect(parse(written.toString('utf8'))).toEqual(runbook)
      expect(stdout).toContain(
        `(${written.length} bytes): an SSM Automation runbook. Create it with: aws ssm create-document --document-type Automation --document-format ${format} `,
      )
    },
  )

  it('refuses a runbook whose text would pass 64 KB less the runtime parameters, naming its bytes', async () => {
    // Prepare: 16 steps of the workshop's
    const many = join(dir, 'many.json')
    const steps = JSON.parse(await readFile(workshop, 'utf8')).steps as { name: string }[]
    await writeFile(
      many,
      JSON.stringify({
        name: 'many',
        steps: Array.from({ length: 16 }, (_, index) => ({
          ...steps[index % steps.length],
          name: `s${index}`,
        })),
      }),
    )

    // Act
    const { code, stderr } = await runMain(['experiment', 'export', many, '--to', 'runbook'])

    // Assess
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^middy-chaos: cannot export .*many\.json: experiment many: its runbook would be \d+ bytes as JSON, past 64512 \(SSM's 64 KB document limit, which counts the parameters given at run time/,
    )
  })

  it('refuses a 2 KB config the lease cannot keep in the Standard tier, naming the sizes, and writes it with --lease-tier advanced', async () => {
    // Prepare
    const big = join(dir, 'big-config.json')
    await writeFile(
      big,
      JSON.stringify({
        name: 'big',
        steps: [
          {
            name: 'exception',
            set: { ...LATENCY, fault_type: 'exception', exception_msg: 'x'.repeat(2000) },
            wait: '1m',
          },
          { name: 'off', set: { ...LATENCY, is_enabled: false } },
        ],
      }),
    )

    // Act
    const refused = await runMain(['experiment', 'export', big, '--to', 'cloudformation'])
    const advanced = await runMain([
      'experiment',
      'export',
      big,
      '--to',
      'runbook',
      '--lease-tier',
      'advanced',
    ])
    const validate = await runMain(['experiment', 'validate', big])
    const validateAdvanced = await runMain([
      'experiment',
      'validate',
      big,
      '--lease-tier',
      'Advanced',
    ])

    // Assess
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(
      /^middy-chaos: cannot export .*: experiment big: steps\[0\] \(S01_exception\) writes a config of 20\d\d bytes; .* in one Standard-tier SSM parameter: 4\d\d\d bytes, over its 4096\. Shorten the config, or write the lease in the Advanced tier \(8,192 bytes; AWS charges for each advanced parameter per month and for its API calls\): --lease-tier advanced/,
    )
    expect(advanced.code).toBe(0)
    expect(JSON.parse(advanced.stdout).mainSteps[0].inputs.InputPayload.LeaseTier).toBe('Advanced')
    expect(validate.code).toBe(2)
    expect(validate.stdout).toBe('')
    expect(validate.stderr).toMatch(
      /^middy-chaos: .*big-config\.json cannot run on AWS FIS: experiment big: steps\[0\] \(S01_exception\) writes a config of 20\d\d bytes; .*over its 4096\./,
    )
    expect(validateAdvanced.code).toBe(0)
    expect(validateAdvanced.stdout).toMatch(
      /\n {2}on AWS FIS \(experiment export\): its runbook's lease takes at most 4\d\d\d of the 8192 bytes of its SSM parameter \(Advanced tier\)\n$/,
    )
  })

  it('appends the :* FIS wants to a --log-group-arn without it, and says so', async () => {
    // Act
    const { code, stdout, stderr } = await runMain([
      'experiment',
      'export',
      workshop,
      '--to',
      'fis-json',
      '--param',
      '/chaos/hello-world',
      ...ARNS.slice(0, -1),
      'arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments',
    ])

    // Assess
    expect(code).toBe(0)
    expect(JSON.parse(stdout).logConfiguration.cloudWatchLogsConfiguration.logGroupArn).toBe(
      'arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments:*',
    )
    expect(stderr).toBe(
      'middy-chaos: note: --log-group-arn: FIS takes a log group ARN ending in :*; written as arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments:*\n',
    )
  })

  it('prints FIS input JSON with the alarms of the file, and says the probe thresholds are left out', async () => {
    // Act
    const { code, stdout, stderr } = await runMain([
      'experiment',
      'export',
      stopped,
      '--to',
      'fis-json',
      '--lease-ttl',
      '2m',
      ...ARNS,
    ])

    // Assess
    expect(code).toBe(0)
    expect(stderr).toBe(
      'middy-chaos: note: probe stop conditions are left out (errors>20%): FIS stops on CloudWatch alarms only\n',
    )
    const input = JSON.parse(stdout)
    expect(input).toMatchObject({
      roleArn: 'arn:aws:iam::123456789012:role/middy-chaos-fis',
      targets: {},
      stopConditions: [
        {
          source: 'aws:cloudwatch:alarm',
          value: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:HelloWorldApi5XX',
        },
      ],
      logConfiguration: { logSchemaVersion: 2 },
      actions: { S01_latency: { actionId: 'aws:fis:wait', parameters: { duration: 'PT2M' } } },
    })
    expect(JSON.parse(input.actions.RunExperiment.parameters.documentParameters)).toEqual({
      AutomationAssumeRole: 'arn:aws:iam::123456789012:role/middy-chaos-automation',
      ParameterName: '/chaos/from-the-file',
      LeaseTtlSeconds: '120',
    })
  })

  it('prints the runbook, its waits shortened by --time-scale', async () => {
    // Act
    const { code, stdout } = await runMain([
      'experiment',
      'export',
      workshop,
      '--to',
      'runbook',
      '--time-scale',
      '0.5',
    ])

    // Assess
    expect(code).toBe(0)
    const runbook = JSON.parse(stdout)
    expect(runbook.schemaVersion).toBe('0.3')
    expect(runbook.mainSteps[2]).toMatchObject({
      // The workshop's step names start with their own S<nn>_: kept once, not doubled
      name: 'S02_Wait1',
      inputs: { InputPayload: { HoldSeconds: '30' } },
    })
  })

  it.each([
    ['a key ARN', KMS_KEYS.keyArn, { Resource: [KMS_KEYS.keyArn] }],
    [
      'a key id',
      KMS_KEYS.keyId,
      {
        Resource: [
          {
            'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${KMS_KEYS.keyId}`,
          },
        ],
      },
    ],
    [
      'an alias name',
      KMS_KEYS.alias,
      {
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
        ],
        Condition: HAS_ALIAS,
      },
    ],
    [
      'an alias ARN',
      KMS_KEYS.aliasArn,
      { Resource: ['arn:aws:kms:eu-west-1:123456789012:key/*'], Condition: HAS_ALIAS },
    ],
  ])(
    'writes with --kms-key %s a runbook that uses the key and a role that may use that key as IAM names it, nothing else of KMS',
    async (_, key, grant) => {
      // Act
      const { code, stdout } = await runMain([...toCloudFormation, '--kms-key', key])

      // Assess
      expect(code).toBe(0)
      const template = JSON.parse(stdout)
      expect(template.Resources.Runbook.Properties.Content.parameters.KmsKeyId.default).toBe(key)
      const statements = template.Resources.AutomationRole.Properties.Policies[0].PolicyDocument
        .Statement as { Action: string[] }[]
      expect(
        statements.filter((statement) => statement.Action.some((a) => a.startsWith('kms:'))),
      ).toEqual([
        {
          Sid: 'SecureStringKey',
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          ...grant,
        },
      ])
    },
  )

  it('encrypts the experiment log group with --log-kms-key, and otherwise says to checkov why it has no key of yours', async () => {
    // Act
    const keyed = await runMain([...toCloudFormation, '--log-kms-key', KMS_KEYS.keyArn])
    const plain = await runMain(toCloudFormation)

    // Assess
    expect(keyed.code).toBe(0)
    expect(JSON.parse(keyed.stdout).Resources.LogGroup).toEqual({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30, KmsKeyId: KMS_KEYS.keyArn },
    })
    expect(JSON.parse(plain.stdout).Resources.LogGroup.Metadata.checkov.skip).toEqual([
      { id: 'CKV_AWS_158', comment: expect.stringContaining('--log-kms-key') },
    ])
  })

  it('writes with --kms-key in each form, --runbook-format yaml and --log-kms-key, templates cfn-lint finds nothing in', async () => {
    // Prepare
    const files = Object.keys(KMS_KEYS).map((form) => join(dir, `kms-${form}.json`))
    for (const [index, key] of Object.values(KMS_KEYS).entries()) {
      const { code } = await runMain([
        ...toCloudFormation,
        '--kms-key',
        key,
        '--out',
        files[index] ?? '',
      ])
      expect(code).toBe(0)
    }
    // cfn-lint checks the YAML runbook's structure too (E3051), in its resolved Fn::Join.
    files.push(join(dir, 'yaml.json'))
    const yaml = await runMain([
      ...toCloudFormation,
      '--runbook-format',
      'yaml',
      '--wait',
      '10m',
      '--out',
      files.at(-1) ?? '',
    ])
    expect(yaml.code).toBe(0)
    // The experiment log encrypted with a key of yours.
    files.push(join(dir, 'log-key.json'))
    const logKey = await runMain([
      ...toCloudFormation,
      '--log-kms-key',
      KMS_KEYS.keyArn,
      '--out',
      files.at(-1) ?? '',
    ])
    expect(logKey.code).toBe(0)

    // Act: one cfn-lint run (it starts slowly); exit code bit flags, 2 errors, 4 warnings, 8 informational
    const output = await promisify(execFile)(inject('cfnLint'), [
      '--format',
      'parseable',
      '--',
      ...files,
    ]).then(
      ({ stdout }) => stdout,
      (error: { code?: number; stdout?: string }) => {
        if (error.code === 1 || error.stdout === undefined) throw error
        return error.stdout
      },
    )

    // Assess: a key in Resource as IAM takes it (an alias or a key id there is E3510)
    expect(output.split('\n').filter(Boolean)).toEqual([])
  }, 60_000)

  it.each([
    [
      ['--to', 'yaml'],
      2,
      'experiment export: --to "yaml" is unknown (cloudformation, fis-json, runbook)',
    ],
    [[], 2, 'experiment export: --to is required (cloudformation, fis-json, runbook)'],
    [
      ['--to', 'fis-json', '--document-arn', 'arn:aws:ssm:eu-west-1:123456789012:document/x'],
      2,
      'experiment export --to fis-json: needs --automation-role-arn, --fis-role-arn, --log-group-arn, --param',
    ],
    [
      ['--to', 'cloudformation', '--lease-ttl', '5s'],
      2,
      '--lease-ttl: on AWS, whole seconds from 30s to 60m (a step change in SSM Automation takes seconds, and nothing renews the expiry meanwhile)',
    ],
    [
      ['--to', 'runbook', '--kms-key', 'my key!'],
      2,
      '--kms-key: "my key!" is not a key ARN, key id, alias name (alias/<name>) or alias ARN',
    ],
    [
      ['--to', 'cloudformation', '--kms-key', 'chaos'],
      2,
      '--kms-key: "chaos" is not a key ARN, key id, alias name (alias/<name>) or alias ARN',
    ],
    [
      ['--to', 'runbook', '--kms-key', ''],
      2,
      '--kms-key: "" is not a key ARN, key id, alias name (alias/<name>) or alias ARN',
    ],
    [
      ['--to', 'runbook', '--kms-key', '${Token[TOKEN.123]}'],
      2,
      '--kms-key: "${Token[TOKEN.123]}" is not a key ARN, key id, alias name (alias/<name>) or alias ARN',
    ],
    [
      ['--to', 'fis-json', '--kms-key', 'alias/chaos', ...ARNS, '--param', '/chaos/x'],
      2,
      'experiment export --to fis-json: --kms-key belongs to the runbook (export --to runbook or cloudformation)',
    ],
    [
      ['--to', 'cloudformation', '--log-kms-key', 'alias/chaos'],
      2,
      '--log-kms-key: "alias/chaos" is not a key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); CloudWatch Logs takes no alias and no key id',
    ],
    [
      ['--to', 'runbook', '--log-kms-key', 'arn:aws:kms:eu-west-1:123456789012:key/x'],
      2,
      'experiment export --to runbook: --log-kms-key belongs to the log group of the CloudFormation template (--to cloudformation)',
    ],
    [
      ['--to', 'cloudformation', '--param', 'chaos param'],
      2,
      /^cannot export .*: parameter name "chaos param"/,
    ],
    [
      ['--to', 'fis-json', '--param', '/chaos/x', ...ARNS.slice(0, -1), 'arn:aws:s3:::logs'],
      2,
      '--log-group-arn: log group ARN "arn:aws:s3:::logs": FIS takes a CloudWatch Logs log group ARN ending in :* (arn:aws:logs:<region>:<account>:log-group:<name>:*)',
    ],
    [
      ['--to', 'runbook', '--runbook-format', 'xml'],
      2,
      '--runbook-format: "xml" is not json or yaml',
    ],
    [
      ['--to', 'runbook', '--lease-tier', 'premium'],
      2,
      '--lease-tier: "premium" is not standard (4 KB) or advanced (8 KB, charged by AWS)',
    ],
    [
      ['--to', 'fis-json', '--runbook-format', 'yaml', ...ARNS, '--param', '/chaos/x'],
      2,
      'experiment export --to fis-json: --runbook-format belongs to the runbook (export --to runbook or cloudformation)',
    ],
  ])('refuses %j with one middy-chaos: line', async (args, exitCode, message) => {
    // Act
    const { code, stdout, stderr } = await runMain(['experiment', 'export', workshop, ...args])

    // Assess
    expect(code).toBe(exitCode)
    expect(stdout).toBe('')
    const lines = stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]?.replace(/^middy-chaos: /, '')).toMatch(
      typeof message === 'string'
        ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
        : message,
    )
    expect(lines[0]).toMatch(/^middy-chaos: /)
  })

  it('refuses a file that does not exist', async () => {
    // Act
    const { code, stderr } = await runMain([
      'experiment',
      'export',
      join(dir, 'none.json'),
      '--to',
      'runbook',
    ])

    // Assess
    expect(code).toBe(1)
    expect(stderr).toMatch(/^middy-chaos: experiment file not found: .*none\.json\n$/)
  })
})
