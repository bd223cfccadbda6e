/**
 * Experiments for the tests, built as the CLI's export builds them (the
 * experiment file read by `loadExperiment`, each value's `turnsFaultsOn` from
 * the registry), and the runbook rules cfn-lint does not check (it does not
 * look inside an `AWS::SSM::Document`'s content).
 */
import { fileURLToPath } from 'node:url'
import { loadExperiment, parseExperiment, toFisExperiment } from '@middy-chaos/cli'
import { type FisExperiment, type RunbookDocument, scriptSteps } from '../src/index.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const workshopFile = `${repoRoot}examples/hello-world/experiments/workshop.json`

/** The AWS FIS workshop's experiment (examples/hello-world/experiments/workshop.json). */
export const workshop = async (): Promise<FisExperiment> =>
  toFisExperiment(await loadExperiment(workshopFile)).fis

export const LATENCY = { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 }
export const OFF = { is_enabled: false, fault_type: 'latency', delay: 400, rate: 1 }

/** `fis`'s steps repeated to `count` steps, named `s0`, `s1` …: runbooks of any size. */
export const repeatSteps = (fis: FisExperiment, count: number): FisExperiment => ({
  ...fis,
  steps: Array.from({ length: count }, (_, index) => ({
    ...(fis.steps[index % fis.steps.length] as FisExperiment['steps'][number]),
    name: `s${index}`,
  })),
})

/** An experiment from an experiment file's JSON. */
export const experiment = (raw: unknown): FisExperiment => toFisExperiment(parseExperiment(raw)).fis

/** `onCancel` may not move to these actions (SSM, "Properties shared by all actions"). */
const NOT_ON_CANCEL = new Set([
  'aws:approve',
  'aws:copyImage',
  'aws:createImage',
  'aws:createStack',
  'aws:createTags',
  'aws:pause',
  'aws:runInstances',
  'aws:sleep',
])

/** The runbook's own rules; every problem found, by step (the steps of its loops included). */
export const runbookProblems = (runbook: RunbookDocument): string[] => {
  const problems: string[] = []
  const steps = scriptSteps(runbook)
  const names = [...runbook.mainSteps.map((step) => step.name), ...steps.map((step) => step.name)]
  const byName = new Map<string, { action: string }>(
    [...runbook.mainSteps, ...steps].map((step) => [step.name, step]),
  )
  if (byName.size !== new Set(names).size || new Set(names).size !== byName.size)
    problems.push('two steps have the same name')
  if (new Set(runbook.mainSteps.map((step) => step.name)).size !== runbook.mainSteps.length)
    problems.push('two steps have the same name')
  const last = runbook.mainSteps.at(-1)
  if (last?.name !== 'Restore' || last.action !== 'aws:executeScript' || last.isEnd !== true)
    problems.push('Restore is not the last step, isEnd')
  for (const loop of runbook.mainSteps) {
    if (loop.action !== 'aws:loop') continue
    if (!/^[A-Za-z0-9_]{1,64}$/.test(loop.name)) problems.push(`${loop.name}: not [A-Za-z0-9_]`)
    if (loop.onFailure !== 'step:Restore')
      problems.push(`${loop.name}.onFailure: ${loop.onFailure} is not step:Restore`)
    if (loop.inputs.Iterators.length < 1 || loop.inputs.Iterators.length > 100)
      problems.push(`${loop.name}: ${loop.inputs.Iterators.length} iterations, SSM takes 1 to 100`)
    if ('onCancel' in loop) problems.push(`${loop.name}: SSM takes no onCancel on aws:loop`)
  }
  for (const step of steps) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(step.name)) problems.push(`${step.name}: not [A-Za-z0-9_]`)
    if (step.action === 'aws:executeScript' && step.timeoutSeconds > 600)
      problems.push(`${step.name}: timeoutSeconds ${step.timeoutSeconds} > 600`)
    if (step.name === 'Restore') {
      if (step.onCancel !== undefined || step.onFailure !== undefined)
        problems.push('Restore: must not go anywhere else')
      continue
    }
    for (const route of ['onFailure', 'onCancel'] as const) {
      const target = byName.get((step[route] ?? '').replace(/^step:/, ''))
      if (step[route] !== 'step:Restore' || target === undefined)
        problems.push(`${step.name}.${route}: ${step[route]} is not step:Restore`)
      else if (route === 'onCancel' && NOT_ON_CANCEL.has(target.action))
        problems.push(`${step.name}.onCancel: moves to ${target.action}`)
    }
  }
  return problems
}
