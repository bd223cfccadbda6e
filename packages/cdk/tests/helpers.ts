/**
 * What the CDK tests share: the repository's experiment files, Apps that
 * write their cloud assembly under one temporary folder removed after the
 * tests, cfn-lint (its path comes from the Vitest global setup), and a reader of synthesized
 * CloudFormation that evaluates intrinsics to plain strings, so a CDK
 * template and the CloudFormation export can be compared whatever their
 * logical ids and ARN spellings (`Fn::Join` against `Fn::Sub`).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { App, type AppProps } from 'aws-cdk-lib'
import { inject } from 'vitest'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const workshopFile = join(repoRoot, 'examples/hello-world/experiments/workshop.json')
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

export const ENV = { account: '123456789012', region: 'eu-west-1' } as const

/** The temporary folder of this test file's cloud assemblies, made by the first {@link newApp}. */
let assemblies: string | undefined

/**
 * An App writing its cloud assembly in a folder of its own under one
 * temporary folder, which {@link removeApps} removes: `new App()` without
 * `outdir` makes a `cdk.outXXXX` in the system's temporary folder and
 * leaves it there. Give `outdir` to write elsewhere.
 */
export const newApp = (props: AppProps = {}): App => {
  assemblies ??= mkdtempSync(join(tmpdir(), 'middy-chaos-cdk-apps-'))
  return new App({ outdir: mkdtempSync(join(assemblies, 'app-')), ...props })
}

/** Removes what {@link newApp} made: `afterAll(removeApps)` in each test file that calls it. */
export const removeApps = async (): Promise<void> => {
  const dir = assemblies
  assemblies = undefined
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}
const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': ENV.region,
  'AWS::AccountId': ENV.account,
  'AWS::URLSuffix': 'amazonaws.com',
}

/**
 * How to read references: logical id → a name of your choice, template
 * parameter → its value, `<logical id>.<attribute>` → the value of that
 * `Fn::GetAtt` (a key's ARN, to compare with a template that has it written out).
 */
export interface Names {
  readonly resources?: Readonly<Record<string, string>>
  readonly parameters?: Readonly<Record<string, string>>
  readonly attributes?: Readonly<Record<string, string>>
}

/**
 * A CloudFormation value with every intrinsic evaluated: pseudo parameters
 * to the test environment, `Ref` of a resource to `{Name}`, `Fn::GetAtt` to
 * `{Name.Attribute}` (or the value given in `attributes`), `Fn::Join` and
 * `Fn::Sub` to the joined string.
 */
export const evaluate = (value: unknown, names: Names = {}): unknown => {
  const resource = (id: string) => names.resources?.[id] ?? id
  const ref = (name: string) => PSEUDO[name] ?? names.parameters?.[name] ?? `{${resource(name)}}`
  const attribute = (id: string, attr: string) =>
    names.attributes?.[`${id}.${attr}`] ?? `{${resource(id)}.${attr}}`
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit)
    if (typeof node !== 'object' || node === null) return node
    const object = node as Record<string, unknown>
    const keys = Object.keys(object)
    if (keys.length === 1) {
      const [key] = keys as [string]
      const argument = object[key]
      if (key === 'Ref') return ref(argument as string)
      if (key === 'Fn::GetAtt') {
        const [id, attr] = (typeof argument === 'string' ? argument.split('.') : argument) as [
          string,
          string,
        ]
        return attribute(id, attr)
      }
      if (key === 'Fn::Join') {
        const [delimiter, items] = argument as [string, unknown[]]
        return items.map((item) => String(visit(item))).join(delimiter)
      }
      if (key === 'Fn::Sub') {
        const [text, variables] = (typeof argument === 'string' ? [argument, {}] : argument) as [
          string,
          Record<string, unknown>,
        ]
        return text.replace(/\$\{(!?)([^}]+)\}/g, (_, bang: string, name: string) => {
          if (bang) return `\${${name}}`
          if (name in variables) return String(visit(variables[name]))
          const [id, attr] = name.split('.') as [string, string | undefined]
          return attr === undefined ? ref(id) : attribute(id, attr)
        })
      }
    }
    return Object.fromEntries(keys.map((key) => [key, visit(object[key])]))
  }
  return visit(value)
}

/** A policy statement as plain strings, `Action` and `Resource` always arrays. */
export interface Statement {
  Sid?: string
  Effect: string
  Action: string[]
  Resource: string[]
  Condition?: Record<string, Record<string, unknown>>
  Principal?: unknown
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]

/** Statements of a policy document, evaluated, `Action` and `Resource` as arrays. */
export const statements = (document: unknown, names: Names = {}): Statement[] =>
  ((evaluate(document, names) as { Statement: Record<string, unknown>[] }).Statement ?? []).map(
    (statement) => {
      const { Action, Resource, ...rest } = statement
      return {
        ...(rest as Omit<Statement, 'Action' | 'Resource'>),
        Action: list(Action),
        Resource: list(Resource),
      }
    },
  )

export type CfnTemplate = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }
  >
}

/** Every IAM statement of a template (roles' inline policies and policy resources), with where it is. */
export const everyStatement = (
  template: CfnTemplate,
  names: Names = {},
): (Statement & { in: string })[] =>
  Object.entries(template.Resources).flatMap(([id, resource]) => {
    const properties = resource.Properties ?? {}
    const documents =
      resource.Type === 'AWS::IAM::Role'
        ? ((properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
            (policy) => policy.PolicyDocument,
          )
        : resource.Type === 'AWS::IAM::Policy'
          ? [properties.PolicyDocument]
          : []
    return documents.flatMap((document) =>
      statements(document, names).map((statement) => ({ ...statement, in: id })),
    )
  })

/** The logical ids of the resources of a type. */
export const idsOf = (template: CfnTemplate, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id)

/**
 * What cfn-lint is told to ignore in a CDK template: `W3005`, the `DependsOn`
 * on its role that aws-cdk-lib writes on every Lambda function (a `GetAtt`
 * of the role already orders them). Nothing of the middy-chaos constructs.
 */
export const CDK_LINT_IGNORES = ['--ignore-checks', 'W3005']

/** Runs cfn-lint on a template; resolves with its exit code and output. */
export const cfnLint = async (
  template: unknown,
  name = 'template.json',
  args: readonly string[] = [],
): Promise<{ code: number; output: string }> => {
  const dir = await mkdtemp(join(tmpdir(), 'middy-chaos-cdk-lint-'))
  const file = join(dir, name)
  try {
    await writeFile(file, typeof template === 'string' ? template : JSON.stringify(template))
    return await lint(file, args)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Runs cfn-lint on a template file. */
export const lint = async (
  file: string,
  args: readonly string[] = [],
): Promise<{ code: number; output: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(inject('cfnLint'), [...args, '--', file], {
      timeout: 120_000,
    })
    return { code: 0, output: `${stdout}${stderr}` }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}
