/**
 * What the tests of the FIS player share with the CLI's tests of `experiment
 * run --fis-template`: moto's SSM, a temporary folder, the stores on both
 * sides, the workshop's template and document, and the runbook and template
 * `@middy-chaos/fis` generates, written as files the player reads.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { FileStore, SsmStore } from '@middy-chaos/cli'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { FAULTS, turnsFaultsOn } from '@middy-chaos/experiment'
import { afterAll, beforeAll, inject } from 'vitest'
import {
  buildFisJson,
  buildRunbook,
  type FisExperiment,
  type RunbookDocument,
  type RunbookFormat,
  runbookContent,
} from '../src/index.js'
import { loadAutomationDocument } from '../src/local/document.js'
import { LEASE_SUFFIX, parseLease } from '../src/local/lease.js'
import { planFisExperiment } from '../src/local/player.js'
import type { ConfigStore } from '../src/local/store.js'
import { loadFisTemplate } from '../src/local/template.js'

export const FIS = fileURLToPath(new URL('./fixtures/fis', import.meta.url))
export const WORKSHOP_TEMPLATE = join(FIS, 'workshop-template.json')
export const WORKSHOP_DOCUMENT = join(FIS, 'FisWorkshopPutParameterShim.yaml')

/** The workshop's parameter as its SAM template creates it. */
export const WORKSHOP_BEFORE =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'
/** A distinctive pre-experiment value: the restore must bring exactly this back. */
export const BEFORE =
  '{"is_enabled":false,"fault_type":"latency","delay":50,"rate":0.25,"note":"mine"}'

export let dir: string
export let moto: string
export let ssm: SSMClient
let count = 0
/** A number not used before in this test file: for names of files and parameters. */
export const nextCount = () => ++count
beforeAll(async () => {
  moto = inject('motoEndpoint')
  ssm = new SSMClient({ endpoint: moto, region: 'us-east-1' })
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-fis-'))
})
afterAll(async () => {
  ssm.destroy()
  await rm(dir, { recursive: true, force: true })
})

/** A fresh SSM parameter on moto holding `value`. */
export const ssmParameter = async (value?: string) => {
  const name = `/middy-chaos/fis-test/${Date.now()}-${++count}`
  if (value !== undefined)
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' }))
  return name
}
export const ssmHistory = async (name: string) => {
  const { Parameters = [] } = await ssm.send(new GetParameterHistoryCommand({ Name: name }))
  return Parameters.map((p) => ({
    value: p.Value ?? '',
    modifiedAt: p.LastModifiedDate?.toISOString(),
    label: undefined as string | undefined,
  }))
}

/** The config a value sets, without its stamp. */
export const withoutStamp = (value: string) => {
  const { expiresAt: _, ...rest } = JSON.parse(value) as Record<string, unknown>
  return rest
}
/** Consecutive equal entries once: a renewal rewrites the same config. */
export const distinct = <T>(items: T[]) =>
  items.filter((item, index) => JSON.stringify(item) !== JSON.stringify(items[index - 1]))

export const LATENCY = '{"is_enabled":true,"fault_type":"latency","delay":400,"rate":1}'
export const STATUS_503 = '{"is_enabled":true,"fault_type":"status_code","error_code":503,"rate":1}'
export const OFF = '{"is_enabled":false,"fault_type":"latency","delay":400,"rate":1}'
export const step = (name: string, set?: string, waitMs?: number) => ({
  name,
  ...(set === undefined ? {} : { set }),
  ...(waitMs === undefined ? {} : { waitMs }),
  turnsFaultsOn: set !== undefined && turnsFaultsOn(set, FAULTS),
})
/** Latency, a wait-only step (it renews the latency), status code, off: one minute each. */
export const EXPERIMENT: FisExperiment = {
  name: 'workshop-runbook',
  steps: [
    step('latency', LATENCY, 60_000),
    step('hold on', undefined, 60_000),
    step('status code', STATUS_503, 60_000),
    step('off', OFF),
  ],
}
/** The values the runbook writes, in order, without their stamps. */
export const RUNBOOK_VALUES = [BEFORE, LATENCY, STATUS_503, OFF, BEFORE].map((v) => JSON.parse(v))
export const DOCUMENT_NAME = 'middy-chaos-workshop'

export type Json = Record<string, unknown>
export type Runbook = {
  mainSteps: (Json & { inputs: Json & { InputPayload: Record<string, string> } })[]
}
export type Action = Json & { parameters: Record<string, string> }
export const action = (template: Json, name: string) =>
  (template.actions as Record<string, Action>)[name] as Action

/**
 * The runbook and the FIS template that `@middy-chaos/fis` generates (what
 * `middy-chaos experiment export` writes), as files: the template as
 * `aws fis get-experiment-template` prints it, the runbook named after its
 * document.
 */
export const generated = async (
  edit: { template?: (template: Json) => void; runbook?: (runbook: Runbook) => void } = {},
  experiment: FisExperiment = EXPERIMENT,
  format: RunbookFormat = 'JSON',
) => {
  const runbook = JSON.parse(JSON.stringify(buildRunbook(experiment, { format }))) as Runbook
  const input = buildFisJson(experiment, {
    documentArn: `arn:aws:ssm:us-east-1:123456789012:document/${DOCUMENT_NAME}`,
    automationRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-automation',
    fisRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-fis',
    parameterName: '/chaos/hello',
    logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/middy-chaos/experiments:*',
  })
  const template: Json = {
    id: 'EXT9z8y7x6w5v4u3t2',
    arn: 'arn:aws:fis:us-east-1:123456789012:experiment-template/EXT9z8y7x6w5v4u3t2',
    ...(JSON.parse(JSON.stringify(input)) as Json),
    creationTime: '2026-12-01T12:00:00.000000+00:00',
    lastUpdateTime: '2026-12-01T12:00:00.000000+00:00',
  }
  edit.template?.(template)
  edit.runbook?.(runbook)
  const files = join(dir, `generated-${++count}`)
  await mkdir(files)
  const paths = {
    template: join(files, 'template.json'),
    document: join(files, `${DOCUMENT_NAME}.${format.toLowerCase()}`),
  }
  await writeFile(paths.template, JSON.stringify({ experimentTemplate: template }, null, 4))
  await writeFile(paths.document, runbookContent(runbook as unknown as RunbookDocument, format))
  return paths
}
/** Changes the runbook's `LeaseTtlSeconds` in the template's documentParameters. */
export const leaseTtl = (seconds: number) => (template: Json) => {
  const { parameters } = action(template, 'RunExperiment')
  parameters.documentParameters = JSON.stringify({
    ...JSON.parse(parameters.documentParameters ?? '{}'),
    LeaseTtlSeconds: String(seconds),
  })
}
export const planOf = async ({ template, document }: { template: string; document: string }) =>
  planFisExperiment(await loadFisTemplate(template), [await loadAutomationDocument(document)])
export const runbookPlan = async () => planOf(await generated())
export const runArgs = (files: { template: string; document: string }) => [
  'experiment',
  'run',
  '--fis-template',
  files.template,
  '--document',
  files.document,
]

/** The store of a runbook test, on both sides, with `BEFORE` in it (or nothing). */
export const stores = {
  file: async ({ empty = false } = {}) => {
    const param = join(dir, `config-${++count}.json`)
    if (!empty) await writeFileValue(param, BEFORE, { label: 'setup' })
    const store = new FileStore(param)
    return {
      store,
      args: ['--store', 'file', '--param', param],
      history: async () =>
        (await readFileHistory(param)).map((entry) => ({
          value: entry.value,
          modifiedAt: entry.modifiedAt,
          label: entry.label,
        })),
    }
  },
  ssm: async ({ empty = false } = {}) => {
    const name = await ssmParameter(empty ? undefined : BEFORE)
    const store = new SsmStore(name, { endpoint: moto, region: 'us-east-1' })
    return {
      store,
      args: ['--store', 'ssm', '--param', name, '--endpoint', moto],
      history: () => ssmHistory(name),
    }
  },
}

export const readLease = async (store: ConfigStore) =>
  parseLease(await store.readCompanion(LEASE_SUFFIX))
