/**
 * The experiment part of examples/hello-world/template.yaml (SAM): the
 * CloudFormation export of experiments/workshop.json
 * (`middy-chaos experiment export … --to cloudformation`), its
 * `ParameterName` renamed `ChaosParameterName` (the SAM template's own,
 * which the function reads as `CHAOS_PARAM`), written between marker
 * comments. The test compares the file with a fresh export; `vitest -u`
 * writes it.
 */
import { createRequire } from 'node:module'
import { loadExperiment, toFisExperiment } from '@middy-chaos/cli'
import { buildCloudFormation } from '@middy-chaos/fis'

/** The YAML library the CLI reads Automation documents with (a dependency of @middy-chaos/cli). */
interface Yaml {
  stringify(value: unknown, options?: Record<string, unknown>): string
  parse(text: string, options?: Record<string, unknown>): unknown
}
export const YAML = createRequire(new URL('../../cli/package.json', import.meta.url))(
  'yaml',
) as Yaml

/** Parses a CloudFormation YAML template, its short-form intrinsics read as the long form. */
export const parseTemplate = (text: string): unknown =>
  YAML.parse(text, {
    customTags: ['Ref', 'Sub', 'GetAtt'].map((name) => ({
      tag: `!${name}`,
      resolve: (value: string) =>
        name === 'Ref'
          ? { Ref: value }
          : name === 'GetAtt'
            ? { 'Fn::GetAtt': value.split('.') }
            : { [`Fn::${name}`]: value },
    })),
  })

const SAM_PARAMETER = 'ChaosParameterName'
const EXPORT_PARAMETER = 'ParameterName'

/** The export with its `ParameterName` renamed (in `Ref` and in `Fn::Sub` variables only). */
const rename = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(rename)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === 'Ref' && item === EXPORT_PARAMETER) return [key, SAM_PARAMETER]
      if (key === 'Fn::Sub') {
        const [text, variables] = typeof item === 'string' ? [item, {}] : (item as [string, object])
        // A variable of the Fn::Sub itself keeps its name.
        const renamed =
          EXPORT_PARAMETER in variables
            ? text
            : text.replaceAll(`\${${EXPORT_PARAMETER}}`, `\${${SAM_PARAMETER}}`)
        return [key, typeof item === 'string' ? renamed : [renamed, rename(variables)]]
      }
      return [key, rename(item)]
    }),
  )
}

/** Markers of the generated blocks in template.yaml. */
export const MARKERS = {
  resources: [
    '  # >>> experiment resources (generated, do not edit)',
    '  # <<< experiment resources',
  ],
  outputs: ['  # >>> experiment outputs (generated, do not edit)', '  # <<< experiment outputs'],
} as const

/** The outputs of the export that the SAM template keeps. */
const OUTPUTS = [
  'ExperimentTemplateId',
  'StartExperiment',
  'RunbookName',
  'LeaseParameterName',
  'LogGroupName',
]

const block = (value: unknown): string =>
  // YAML 1.1 quoting: CloudFormation and cfn-lint read `2012-10-17` or `on` unquoted as a date or a boolean.
  YAML.stringify(value, { version: '1.1', lineWidth: 0, blockQuote: 'literal', indent: 2 })
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')

/** The export's resources and kept outputs, its parameter renamed as in the SAM template. */
export const samExperiment = async (
  experimentFile: string,
  parameterName: string,
): Promise<{ resources: Record<string, unknown>; outputs: Record<string, unknown> }> => {
  const exported = buildCloudFormation(toFisExperiment(await loadExperiment(experimentFile)).fis, {
    parameterName,
  })
  const outputs = Object.fromEntries(
    Object.entries(exported.Outputs).filter(([name]) => OUTPUTS.includes(name)),
  )
  return {
    resources: rename(exported.Resources) as Record<string, unknown>,
    outputs: rename(outputs) as Record<string, unknown>,
  }
}

/** The two generated blocks, from a fresh export of the experiment file. */
export const generatedBlocks = async (
  experimentFile: string,
  parameterName: string,
): Promise<{ resources: string; outputs: string }> => {
  const { resources, outputs } = await samExperiment(experimentFile, parameterName)
  return { resources: block(resources), outputs: block(outputs) }
}

/** `text` with its generated blocks replaced; throws when a marker is missing. */
export const splice = (text: string, blocks: { resources: string; outputs: string }): string => {
  let result = text
  for (const kind of ['resources', 'outputs'] as const) {
    const [start, end] = MARKERS[kind]
    const from = result.indexOf(`${start}\n`)
    const to = result.indexOf(`${end}\n`)
    if (from < 0 || to < from)
      throw new Error(`template.yaml: the markers "${start}" … "${end}" are missing`)
    result = `${result.slice(0, from + start.length + 1)}${blocks[kind]}\n${result.slice(to)}`
  }
  return result
}
