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
import { mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installPacked, type PackedProject, repoRoot } from './install.js'

/**
 * The TypeScript blocks of packages/cdk/README.md that name their file on
 * their first line (`// app.ts: …`), as a newcomer copies them.
 */
const readmeFiles = async (): Promise<Map<string, string>> => {
  const readme = await readFile(join(repoRoot, 'packages/cdk/README.md'), 'utf8')
  const files = new Map<string, string>()
  for (const [, code] of readme.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const path = /^\/\/ ([\w./-]+\.ts):/.exec(code ?? '')?.[1]
    if (path !== undefined) files.set(path, code ?? '')
  }
  return files
}

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

  it('synthesizes the README’s app as written, its function bundled with the packages, and the bundle answers', async () => {
    // Prepare: the README's files in a project of their own, with the lock file every project has
    const app = join(project.dir, 'readme-app')
    const files = await readmeFiles()
    expect([...files.keys()].sort()).toEqual(['app.ts', 'src/hello-world.ts'])
    for (const [path, code] of files) {
      await mkdir(dirname(join(app, path)), { recursive: true })
      await writeFile(join(app, path), code)
    }
    // esbuild as the README installs it: a dev dependency, run by NodejsFunction with npx --no-install
    const esbuild = await realpath(join(repoRoot, 'node_modules/esbuild'))
    const { version } = JSON.parse(await readFile(join(esbuild, 'package.json'), 'utf8'))
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ type: 'module', private: true, devDependencies: { esbuild: version } }),
    )
    await writeFile(join(app, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}')
    await mkdir(join(app, 'node_modules/.bin'), { recursive: true })
    await symlink(esbuild, join(app, 'node_modules/esbuild'))
    await symlink(join(esbuild, 'bin/esbuild'), join(app, 'node_modules/.bin/esbuild'))
    const outdir = join(app, 'cdk.out')

    // Act: as cdk synth runs it (cdk.json {"app": "node app.ts"}: the CDK CLI sets CDK_OUTDIR)
    execFileSync(process.execPath, ['app.ts'], {
      cwd: app,
      env: { ...process.env, CDK_OUTDIR: outdir },
      stdio: 'pipe',
    })

    // Assess: the stack, and the function's bundle, which answers as the function does
    const template = JSON.parse(await readFile(join(outdir, 'HelloChaos.template.json'), 'utf8'))
    const resources = Object.values(template.Resources) as {
      Type: string
      Properties: Record<string, unknown>
    }[]
    expect(resources.map((r) => r.Type)).toEqual(
      expect.arrayContaining([
        'AWS::Lambda::Function',
        'AWS::SSM::Parameter',
        'AWS::SSM::Document',
        'AWS::FIS::ExperimentTemplate',
        'AWS::CloudWatch::Alarm',
      ]),
    )
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function')
    expect(fn?.Properties.Environment).toEqual({
      Variables: { POWERTOOLS_PARAMETERS_MAX_AGE: '5', CHAOS_PARAM: '/chaos/hello-world' },
    })
    // The bundle cdk deploy uploads, as the stack names it: asset.<hash>, <hash>.zip in S3
    const key = (fn?.Properties.Code as { S3Key?: string } | undefined)?.S3Key ?? ''
    const asset = join(outdir, `asset.${key.replace(/\.zip$/, '')}`)
    const bundle = readdirSync(asset).find((file) => /^index\.m?js$/.test(file))
    expect(bundle).toBeDefined()
    const config = join(app, 'chaos.json')
    await writeFile(config, '{"is_enabled":false,"fault_type":"latency","delay":400,"rate":1}')
    await writeFile(
      join(app, 'invoke.mjs'),
      `const { handler } = await import(${JSON.stringify(join(asset, bundle ?? ''))})
console.log(JSON.stringify(await handler({}, { awsRequestId: 'readme', getRemainingTimeInMillis: () => 3000 })))`,
    )
    const out = execFileSync(process.execPath, ['invoke.mjs'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, CHAOS_STORE: 'file', CHAOS_PARAM: config, POWERTOOLS_DEV: 'false' },
    })
    expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toEqual({
      statusCode: 200,
      body: 'Hello from Lambda!',
    })
  }, 120_000)
})
