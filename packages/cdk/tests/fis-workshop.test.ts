/**
 * examples/fis-workshop, the AWS FIS workshop's stack as a CDK app,
 * synthesized offline (its function bundled by esbuild here, no Docker)
 * with cdk-nag's AwsSolutions checks, as deployed by default (no stop
 * condition) and with the 5XX stop condition on: zero cdk-nag findings and
 * zero cfn-lint findings either way, and what the workshop needs is there.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Validations } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { AwsSolutionsChecks } from 'cdk-nag'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type FisWorkshopStack } from '../../../examples/fis-workshop/src/app.js'
import { checkov } from '../../../test/helpers/checkov.js'
import {
  CDK_LINT_IGNORES,
  type CfnTemplate,
  evaluate,
  lint,
  newApp,
  removeApps,
  repoRoot,
} from './helpers.js'

const example = join(repoRoot, 'examples/fis-workshop')

/** The workshop's app, with cdk-nag's AwsSolutions checks, synthesized in its own temporary folder. */
const synthesize = (context: Record<string, string>) => {
  const app = newApp({ context })
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  const { stack } = buildApp(app)
  let synthError: unknown
  try {
    app.synth()
  } catch (error) {
    synthError = error
  }
  // Template.fromStack synthesizes again, and would throw the findings in beforeAll: the test names them.
  const template =
    synthError === undefined ? Template.fromStack(stack) : Template.fromJSON({ Resources: {} })
  return {
    app,
    stack,
    synthError,
    template,
    json: template.toJSON() as CfnTemplate,
    templateFile: join(app.outdir, stack.templateFile),
  }
}

let withStop: ReturnType<typeof synthesize>
let byDefault: ReturnType<typeof synthesize>
let stack: FisWorkshopStack
let template: Template
let json: CfnTemplate
let outdir: string

beforeAll(() => {
  withStop = synthesize({ stopOnApi5xx: 'true' })
  byDefault = synthesize({})
  ;({ stack, template, json } = withStop)
  outdir = withStop.app.outdir
}, 180_000)

afterAll(removeApps)

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string

describe.each([
  ['with the 5XX stop condition (-c stopOnApi5xx=true)', () => withStop],
  ['by default, without a stop condition', () => byDefault],
])('examples/fis-workshop %s', (_, synthesized) => {
  it('synthesizes offline with zero cdk-nag AwsSolutions findings', () => {
    // Assess
    const { synthError } = synthesized()
    expect(synthError === undefined ? '' : String((synthError as Error).message)).toBe('')
  })

  it('has zero cfn-lint findings', async () => {
    // Act
    const result = await lint(synthesized().templateFile, CDK_LINT_IGNORES)

    // Assess
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  })
})

describe('examples/fis-workshop and checkov', () => {
  it('fails no check either way; each skip has its reason, and the experiment skips only the log group key', async () => {
    // Act: one checkov run for both templates
    const findings = await checkov({
      withStop: JSON.parse(readFileSync(withStop.templateFile, 'utf8')),
      byDefault: JSON.parse(readFileSync(byDefault.templateFile, 'utf8')),
    })

    // Assess
    const id = (construct: { node: { defaultChild?: unknown } }) => logicalId(construct)
    for (const found of Object.values(findings)) {
      expect(found.failed).toEqual([])
      expect(found.skipped.map(({ id, resource }) => `${id} ${resource}`).sort()).toEqual(
        [
          `CKV_AWS_115 AWS::Lambda::Function.${id(stack.helloWorld)}`,
          `CKV_AWS_116 AWS::Lambda::Function.${id(stack.helloWorld)}`,
          `CKV_AWS_117 AWS::Lambda::Function.${id(stack.helloWorld)}`,
          `CKV_AWS_120 AWS::ApiGateway::Stage.${id(stack.api.deploymentStage)}`,
          `CKV_AWS_158 AWS::Logs::LogGroup.${id(stack.experiment.logGroup)}`,
          `CKV_AWS_173 AWS::Lambda::Function.${id(stack.helloWorld)}`,
          `CKV_AWS_59 AWS::ApiGateway::Method.${id(stack.api.root.node.findChild('GET'))}`,
          `CKV_AWS_73 AWS::ApiGateway::Stage.${id(stack.api.deploymentStage)}`,
          `CKV_AWS_76 AWS::ApiGateway::Stage.${id(stack.api.deploymentStage)}`,
        ].sort(),
      )
      for (const { comment } of found.skipped) expect(comment?.length).toBeGreaterThan(40)
      expect(found.passed).toBeGreaterThan(30)
    }
  }, 60_000)
})

describe('examples/fis-workshop by default', () => {
  it('creates the workshop experiment stopped by nothing but a person, and no 5XX alarm', () => {
    // Act
    const { template: plain, json: plainJson } = byDefault

    // Assess
    plain.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Tags: { Name: 'FisWorkshopLambdaFailure' },
      StopConditions: [{ Source: 'none' }],
    })
    expect(Object.keys(plainJson.Resources).filter((id) => id.startsWith('Api5xx'))).toEqual([])
    expect(plain.findResources('AWS::CloudWatch::Alarm')).toEqual({})
  })
})

describe('examples/fis-workshop', () => {
  it('bundles the hello-world handler of examples/hello-world for Node.js 24, reading the chaos parameter', () => {
    // Act
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'hello-world' } } },
      }),
    )
    const key = evaluate((fn?.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key)
    const asset = `asset.${String(key).replace(/\.zip$/, '')}`
    const bundle = readFileSync(join(outdir, asset, 'index.mjs'), 'utf8')

    // Assess
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 3,
      Environment: { Variables: { CHAOS_PARAM: 'FisWorkshopLambdaFault' } },
    })
    expect(readdirSync(join(outdir, asset))).toEqual(['index.mjs'])
    expect(bundle).toContain('Hello from Lambda!')
    expect(bundle).toContain('Chaos fault injected')
    // No import left for the runtime to resolve (a warning may name a module in its words).
    expect(bundle).not.toMatch(/\bimport\s*(?:[\w{},*\s]+from\s*)?\(?\s*['"]@middy-chaos\//)
  })

  it('puts it behind API Gateway, GET /', () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: { Type: 'AWS_PROXY' },
    })
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'Prod' })
  })

  it('creates the parameter with faults off and the workshop experiment stopped by the 5XX alarm', () => {
    // Assess
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: 'FisWorkshopLambdaFault',
      Value: Match.stringLikeRegexp('"is_enabled":false'),
    })
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      Threshold: 5,
    })
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Tags: { Name: 'FisWorkshopLambdaFailure' },
      StopConditions: [
        {
          Source: 'aws:cloudwatch:alarm',
          Value: { 'Fn::GetAtt': [logicalId(stack.api5xx ?? stack), 'Arn'] },
        },
      ],
      Actions: Match.objectLike({
        RunExperiment: Match.objectLike({ ActionId: 'aws:ssm:start-automation-execution' }),
        S04_Wait2: {
          ActionId: 'aws:fis:wait',
          Description: Match.anyValue(),
          Parameters: { duration: 'PT1M' },
          StartAfter: ['S02_Wait1'],
        },
      }),
    })
    expect(Object.keys(template.findResources('AWS::SSM::Document'))).toHaveLength(1)
    expect(Object.keys(json.Resources).filter((id) => id.startsWith('Api5xx'))).toHaveLength(1)
  })

  it('tells how to start the experiment and where to probe', () => {
    // Assess
    for (const output of ['ServerlessFaultApi', 'ChaosParameter', 'ExperimentTemplateId'])
      template.hasOutput(output, {})
  })

  // `node src/app.ts` resolves @middy-chaos/cdk through the example's own node_modules: after
  // pnpm install, and with the packages built (pnpm test builds them first).
  it.skipIf(!existsSync(join(example, 'node_modules/@middy-chaos/cdk')))(
    'synthesizes with node src/app.ts, as cdk synth runs it',
    async () => {
      // Act
      const out = await mkdtemp(join(tmpdir(), 'middy-chaos-fis-workshop-cli-'))
      try {
        await promisify(execFile)(process.execPath, ['src/app.ts'], {
          cwd: example,
          env: { ...process.env, CDK_OUTDIR: out },
          timeout: 120_000,
        })

        // Assess
        expect(readdirSync(out)).toContain('FisWorkshop.template.json')
      } finally {
        await rm(out, { recursive: true, force: true })
      }
    },
    180_000,
  )
})
