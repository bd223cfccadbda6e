/**
 * `@middy-chaos/cdk` packed with the `@middy-chaos` packages its packed
 * manifest depends on, installed in a fresh project: the CLI is nowhere in its
 * tree (a CDK app gets the constructs, the experiment model and the FIS
 * generator, not the local API Gateway, the probe, the report or the player),
 * and a stack with its constructs synthesizes from the tarballs. Needs
 * `pnpm build` first.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installPacked, type PackedProject } from './install.js'

describe('@middy-chaos/cdk, packed and installed', () => {
  let project: PackedProject

  beforeAll(async () => {
    project = await installPacked(['cdk'], ['aws-cdk-lib', 'constructs'])
  }, 120_000)

  afterAll(async () => {
    if (project) await rm(project.dir, { recursive: true, force: true })
  })

  it('brings core, the experiment model and fis, and no @middy-chaos/cli anywhere in its tree', () => {
    const installed = Object.keys(project.manifests).sort()
    expect(installed).toEqual(expect.arrayContaining(['cdk', 'core', 'experiment', 'fis']))
    expect(installed).not.toContain('cli')
    expect(readdirSync(join(project.dir, 'node_modules', '@middy-chaos'))).not.toContain('cli')
    for (const manifest of Object.values(project.manifests)) {
      expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@middy-chaos/cli')
      expect(Object.keys(manifest.peerDependencies ?? {})).not.toContain('@middy-chaos/cli')
    }
    expect(existsSync(join(project.dir, 'node_modules', '@middy-chaos', 'cli'))).toBe(false)
  })

  it('synthesizes a stack with the chaos parameter and an experiment file from the tarballs', async () => {
    await writeFile(
      join(project.dir, 'experiment.json'),
      JSON.stringify({
        name: 'packed',
        steps: [
          {
            name: 'latency',
            set: { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 },
            wait: '1m',
          },
          { name: 'off', set: { is_enabled: false, fault_type: 'latency', delay: 400, rate: 1 } },
        ],
      }),
    )
    await writeFile(
      join(project.dir, 'synth.mjs'),
      `
import { App, Stack } from 'aws-cdk-lib'
import { ChaosConfigParameter, ChaosExperiment } from '@middy-chaos/cdk'
const app = new App()
const stack = new Stack(app, 'Chaos', { env: { account: '123456789012', region: 'us-east-1' } })
const parameter = new ChaosConfigParameter(stack, 'Config', { parameterName: '/chaos/hello' })
new ChaosExperiment(stack, 'Experiment', {
  parameter,
  experiment: 'experiment.json',
})
const template = app.synth().getStackByName('Chaos').template
console.log(JSON.stringify(Object.values(template.Resources).map((r) => r.Type).sort()))
`,
    )
    const out = execFileSync(process.execPath, ['synth.mjs'], {
      cwd: project.dir,
      encoding: 'utf8',
    })
    const types = JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as string[]
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::SSM::Parameter',
        'AWS::SSM::Document',
        'AWS::FIS::ExperimentTemplate',
      ]),
    )
  }, 60_000)
})
