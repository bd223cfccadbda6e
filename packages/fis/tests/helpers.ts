/**
 * Experiments for the tests, built as the CLI's export builds them (the
 * experiment file read by `loadExperiment`, each value's `turnsFaultsOn` from
 * the registry), and the runbook rules cfn-lint does not check (it does not
 * look inside an `AWS::SSM::Document`'s content).
 */
import { fileURLToPath } from 'node:url'
import { loadExperiment, parseExperiment, toFisExperiment } from '@middy-chaos/cli'
import type { FisExperiment, RunbookDocument } from '../src/index.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const workshopFile = `${repoRoot}examples/hello-world/experiments/workshop.json`

/** The AWS FIS workshop's experiment (examples/hello-world/experiments/workshop.json). */
export const workshop = async (): Promise<FisExperiment> =>
  toFisExperiment(await loadExperiment(workshopFile)).fis

export const LATENCY = { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 }
export const OFF = { is_enabled: false, fault_type: 'latency', delay: 400, rate: 1 }

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

/** The runbook's own rules; every problem found, by step. */
export const runbookProblems = (runbook: RunbookDocument): string[] => {
  const problems: string[] = []
  const steps = runbook.mainSteps
  const byName = new Map(steps.map((step) => [step.name, step]))
  if (byName.size !== steps.length) problems.push('two steps have the same name')
  const last = steps.at(-1)
  if (last?.name !== 'Restore' || last.isEnd !== true)
    problems.push('Restore is not the last step, isEnd')
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
