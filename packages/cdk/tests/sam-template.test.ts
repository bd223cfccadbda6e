/**
 * examples/hello-world/template.yaml (SAM) carries the workshop experiment
 * on AWS FIS: exactly the CloudFormation export of experiments/workshop.json
 * (so, by constructs.test.ts, what the CDK construct synthesizes), wired to
 * the template's own parameter, which the function still reads as
 * CHAOS_PARAM; cfn-lint finds nothing. `vitest -u` rewrites the generated
 * part after the runbook or the export changes.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { evaluate, lint, repoRoot, statements, workshopFile } from './helpers.js'
import { generatedBlocks, parseTemplate, samExperiment, splice } from './sam.js'

const templatePath = join(repoRoot, 'examples/hello-world/template.yaml')
const PARAMETER = '/middy-chaos/hello-world/config'

type Template = {
  Parameters: Record<string, Record<string, unknown>>
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
  Outputs: Record<string, unknown>
}

describe('examples/hello-world/template.yaml', () => {
  it('has the experiment resources of a fresh export of experiments/workshop.json', async () => {
    // Prepare
    const text = readFileSync(templatePath, 'utf8')

    // Act
    const expected = splice(text, await generatedBlocks(workshopFile, PARAMETER))

    // Assess
    await expect(expected).toMatchFileSnapshot(templatePath)
  })

  it('reads back as exactly the export: nothing lost in the YAML', async () => {
    // Prepare
    const { resources, outputs } = await samExperiment(workshopFile, PARAMETER)

    // Act
    const template = parseTemplate(readFileSync(templatePath, 'utf8')) as Template

    // Assess
    for (const [name, resource] of Object.entries(resources))
      expect(template.Resources[name]).toEqual(resource)
    for (const [name, output] of Object.entries(outputs))
      expect(template.Outputs[name]).toEqual(output)
  })

  it('wires the experiment to the parameter the function reads as CHAOS_PARAM', () => {
    // Act
    const template = parseTemplate(readFileSync(templatePath, 'utf8')) as Template
    const fn = template.Resources.HelloWorldFunction?.Properties ?? {}
    const experiment = template.Resources.ExperimentTemplate?.Properties ?? {}
    const automation = template.Resources.AutomationRole?.Properties ?? {}

    // Assess
    expect(fn.Environment).toMatchObject({
      Variables: { CHAOS_PARAM: { Ref: 'ChaosParameterName' } },
    })
    expect(
      statements((fn.Policies as { Statement: unknown }[])[0], {
        parameters: { ChaosParameterName: PARAMETER },
      }),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: [`arn:aws:ssm:eu-west-1:123456789012:parameter${PARAMETER}`],
      },
    ])
    expect(
      statements((automation.Policies as { PolicyDocument: unknown }[])[0]?.PolicyDocument, {
        parameters: { ChaosParameterName: PARAMETER },
      }).flatMap((statement) => statement.Resource),
    ).toEqual([
      `arn:aws:ssm:eu-west-1:123456789012:parameter${PARAMETER}`,
      `arn:aws:ssm:eu-west-1:123456789012:parameter${PARAMETER}.lease`,
    ])
    const run = evaluate(experiment.Actions, {
      parameters: { ChaosParameterName: PARAMETER },
    }) as Record<string, { Parameters: { documentParameters: string } }>
    expect(JSON.parse(run.RunExperiment?.Parameters.documentParameters ?? '{}')).toMatchObject({
      ParameterName: PARAMETER,
    })
    expect(JSON.stringify(template)).not.toContain('"Ref":"ParameterName"')
    expect(template.Parameters.ChaosParameterName).toMatchObject({
      Default: PARAMETER,
      AllowedPattern: '^/[a-zA-Z0-9_.\\-/]+$',
    })
  })

  it('has zero cfn-lint findings', async () => {
    // Act
    const result = await lint(templatePath)

    // Assess
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  })
})
