/**
 * The AWS FIS workshop's serverless stack as a CDK app, with middy-chaos:
 * the workshop's hello-world function (examples/hello-world, Middy with the
 * latency, status-code and exception faults) behind an API Gateway REST API,
 * the chaos parameter it reads (created with faults off), and the
 * `FisWorkshopLambdaFailure` experiment on AWS FIS (latency → status code →
 * exception → off, one minute each) whose SSM Automation runbook restores
 * the parameter on completion, on stop and on failure.
 *
 * `node src/app.ts` (what `cdk synth` runs, see cdk.json) synthesizes it
 * offline: the function is bundled by esbuild on this machine, no Docker.
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ChaosConfigParameter, ChaosExperiment } from '@middy-chaos/cdk'
import {
  App,
  CfnOutput,
  type CfnResource,
  Duration,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib'
import * as apigateway from 'aws-cdk-lib/aws-apigateway'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import type { Construct } from 'constructs'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** The repository: the function's sources and the lock file esbuild bundles against. */
const REPOSITORY = here('../../../')

/**
 * Tells checkov (`Metadata.checkov.skip`) why a resource of the workshop is as
 * it is, as the cdk-nag acknowledgements do: each check id with its reason.
 */
const checkovSkip = (construct: Construct, reasons: Readonly<Record<string, string>>): void => {
  ;(construct.node.defaultChild as CfnResource).addMetadata('checkov', {
    skip: Object.entries(reasons).map(([id, comment]) => ({ id, comment })),
  })
}

/** Options of the {@link FisWorkshopStack}. */
export interface FisWorkshopStackProps extends StackProps {
  /**
   * The chaos parameter, as the workshop names it.
   *
   * @default 'FisWorkshopLambdaFault'
   */
  readonly parameterName?: string
  /**
   * Stops the experiment when the API answers 5XX (5 in a minute). The
   * workshop's exception step makes the API answer 502, so with it on the
   * experiment stops there, and the parameter comes back.
   *
   * @default false
   */
  readonly stopOnApi5xx?: boolean
}

/**
 * The workshop's stack: `HelloWorld` (Node.js 24), `Api` (`GET /`),
 * `ChaosConfig`, and `FisWorkshopLambdaFailure` (the runbook, the FIS
 * experiment template, its roles and log).
 */
export class FisWorkshopStack extends Stack {
  public readonly helloWorld: nodejs.NodejsFunction
  public readonly api: apigateway.RestApi
  public readonly config: ChaosConfigParameter
  public readonly experiment: ChaosExperiment
  public readonly api5xx?: cloudwatch.Alarm

  public constructor(scope: Construct, id: string, props: FisWorkshopStackProps = {}) {
    super(scope, id, props)

    this.helloWorld = new nodejs.NodejsFunction(this, 'HelloWorld', {
      description: "The AWS FIS workshop's hello-world, with the middy-chaos middlewares",
      entry: `${REPOSITORY}examples/hello-world/src/index.ts`,
      projectRoot: REPOSITORY,
      depsLockFilePath: `${REPOSITORY}pnpm-lock.yaml`,
      runtime: lambda.Runtime.NODEJS_24_X,
      timeout: Duration.seconds(3),
      memorySize: 128,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'hello-world',
        // A step of the experiment shows in the answers within 5 s.
        POWERTOOLS_PARAMETERS_MAX_AGE: '5',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        // @aws-sdk/* comes with the runtime; the rest is bundled.
        mainFields: ['module', 'main'],
        // Powertools Tracer's X-Ray SDK is CommonJS and requires Node.js modules: an ESM bundle needs `require`.
        banner:
          "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
      },
    })
    Validations.of(this.helloWorld).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "The function writes its own logs with AWS's basic execution policy, as the workshop's",
    })

    checkovSkip(this.helloWorld, {
      CKV_AWS_116:
        'API Gateway invokes the function synchronously: a failure is the answer to the caller, there is no event for a dead-letter queue to keep',
      CKV_AWS_117:
        "The workshop's function reaches nothing private: a VPC would only add network interfaces to it",
      CKV_AWS_115:
        "The example reserves none of the account's concurrency; the experiment's faults come from the chaos parameter",
      CKV_AWS_173:
        "Its environment holds no secret (the parameter's name, the service name, the cache window); Lambda encrypts it at rest with its own key",
    })

    this.config = new ChaosConfigParameter(this, 'ChaosConfig', {
      parameterName: props.parameterName ?? 'FisWorkshopLambdaFault',
    })
    this.config.grantRead(this.helloWorld)

    this.api = new apigateway.RestApi(this, 'Api', {
      description: "The workshop's hello-world: probe it with middy-chaos probe <url>",
      deployOptions: { stageName: 'Prod' },
      // API Gateway logs need the account-wide CloudWatch role, which an example must not set.
      cloudWatchRole: false,
    })
    const get = this.api.root.addMethod('GET', new apigateway.LambdaIntegration(this.helloWorld), {
      requestValidatorOptions: { validateRequestBody: true, validateRequestParameters: true },
    })
    checkovSkip(get, {
      CKV_AWS_59:
        "The workshop's endpoint is public: middy-chaos probe calls it without credentials",
    })
    checkovSkip(this.api.deploymentStage, {
      CKV_AWS_76:
        "Access logs need API Gateway's account-wide CloudWatch Logs role, which this example does not change; the function logs every request and every injected fault",
      CKV_AWS_73:
        'The experiment reads what the probe measures and what the function logs; X-Ray traces would add cost, not evidence',
      CKV_AWS_120:
        'A cache would answer the probe without calling the function, and hide the faults the experiment injects',
    })
    for (const [rule, reason] of [
      [
        'AwsSolutions-APIG1',
        "Access logs need API Gateway's account-wide CloudWatch Logs role, which this example does not change; the function logs every request and every injected fault",
      ],
      [
        'AwsSolutions-APIG6',
        "Execution logs need API Gateway's account-wide CloudWatch Logs role, which this example does not change; the function logs every request and every injected fault",
      ],
      [
        'AwsSolutions-APIG3',
        "The workshop's endpoint answers 'Hello from Lambda!' to be probed; a WAF web ACL is out of its scope",
      ],
      [
        'AwsSolutions-APIG4',
        "The workshop's endpoint is public: middy-chaos probe calls it without credentials",
      ],
      [
        'AwsSolutions-COG4',
        "The workshop's endpoint is public: middy-chaos probe calls it without credentials",
      ],
    ] as const)
      Validations.of(this.api).acknowledge({ id: rule, reason })

    const stopOnApi5xx = props.stopOnApi5xx ?? false
    if (stopOnApi5xx)
      this.api5xx = new cloudwatch.Alarm(this, 'Api5xx', {
        alarmDescription:
          'The API answers 5XX: stops the FIS experiment, which restores the parameter',
        metric: this.api.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })

    this.experiment = new ChaosExperiment(this, 'FisWorkshopLambdaFailure', {
      parameter: this.config,
      experiment: `${REPOSITORY}examples/hello-world/experiments/workshop.json`,
      ...(this.api5xx === undefined ? {} : { stopAlarms: [this.api5xx] }),
    })

    new CfnOutput(this, 'ServerlessFaultApi', {
      description: 'URL to probe: middy-chaos probe <url>',
      value: this.api.url,
    })
    new CfnOutput(this, 'ChaosParameter', {
      description:
        'The parameter the experiment writes: middy-chaos status --store ssm --param <name>',
      value: this.config.parameterName,
    })
    new CfnOutput(this, 'ExperimentTemplateId', {
      description: 'aws fis start-experiment --experiment-template-id <id>',
      value: this.experiment.experimentTemplateId,
    })
    new CfnOutput(this, 'RunbookName', {
      description: 'The SSM Automation runbook the experiment runs',
      value: this.experiment.runbook.ref,
    })
    new CfnOutput(this, 'ExperimentLogGroup', {
      description: 'The experiment log (FIS log schema v2)',
      value: this.experiment.logGroup.logGroupName,
    })
  }
}

/**
 * The app: one `FisWorkshop` stack, in the account and region of the CLI's
 * credentials. Context `stopOnApi5xx=true` (`cdk deploy -c stopOnApi5xx=true`)
 * adds the 5XX stop condition.
 */
export const buildApp = (app: App = new App()): { app: App; stack: FisWorkshopStack } => {
  const stopOnApi5xx = String(app.node.tryGetContext('stopOnApi5xx')) === 'true'
  const stack = new FisWorkshopStack(app, 'FisWorkshop', {
    description: "The AWS FIS workshop's serverless stack with middy-chaos (examples/fis-workshop)",
    stopOnApi5xx,
    ...(process.env.CDK_DEFAULT_ACCOUNT === undefined
      ? {}
      : {
          env: {
            account: process.env.CDK_DEFAULT_ACCOUNT,
            region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
          },
        }),
  })
  return { app, stack }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // cdk synth / cdk deploy set CDK_OUTDIR; run by hand, it writes cdk.out beside cdk.json.
  const { app } = buildApp(new App({ outdir: process.env.CDK_OUTDIR ?? here('../cdk.out') }))
  const assembly = app.synth()
  if (process.env.CDK_OUTDIR === undefined)
    process.stdout.write(`Synthesized ${assembly.directory}/FisWorkshop.template.json\n`)
}
