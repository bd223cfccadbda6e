/**
 * cdk-nag (v3, a CDK policy-validation plugin) acknowledgements made by the
 * constructs themselves, so that an app using them has no finding to
 * acknowledge; and the checks of checkov they skip, each with its reason
 * (`Metadata.checkov.skip` of the resource, which checkov reads). A finding's id carries the resource as cdk-nag flattens it
 * (`Fn::Join` joined, `Ref` as `<LogicalId>`, `Fn::GetAtt` as
 * `<LogicalId.Attr>`): the ids are computed here the same way from the
 * resolved value, whatever the stack's environment and logical ids.
 *
 * No dependency on cdk-nag: acknowledgements are construct metadata
 * (`Validations.of(scope).acknowledge`), ignored when no plugin reads them.
 *
 * @module
 */
import { type CfnResource, Stack, Validations } from 'aws-cdk-lib'
import type { IConstruct } from 'constructs'

/** A resolved CloudFormation value as cdk-nag writes it in a finding id. */
export const flattenForNag = (value: unknown): string => {
  if (value === undefined) return ''
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>')
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]]
      return items.map(flattenForNag).join(delimiter)
    }
    if (node['Fn::Sub'] !== undefined) return flattenForNag(node['Fn::Sub'])
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown]
      return `<${flattenForNag(resource)}.${flattenForNag(attribute)}>`
    }
    if (node['Fn::ImportValue'] !== undefined) return flattenForNag(node['Fn::ImportValue'])
    if (node.Ref !== undefined) return `<${flattenForNag(node.Ref)}>`
  }
  return JSON.stringify(value)
}

/**
 * Acknowledges cdk-nag's `AwsSolutions-IAM5` finding for a wildcard resource
 * of a policy under `scope`, with the reason it is needed.
 */
export const acknowledgeWildcardResource = (
  scope: IConstruct,
  resource: string,
  reason: string,
): void => {
  const flat = flattenForNag(Stack.of(scope).resolve(resource))
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason })
}

/** Acknowledges a cdk-nag finding (`AwsSolutions-IAM4[…]`, `AwsSolutions-L1` …) under `scope`. */
export const acknowledge = (scope: IConstruct, id: string, reason: string): void => {
  Validations.of(scope).acknowledge({ id, reason })
}

/** A checkov check a resource skips, and why. */
export interface CheckovSkip {
  readonly id: string
  readonly comment: string
}

/**
 * Skips checkov checks on the resource of `scope` (its default child), each
 * with its reason; a check it already skips is not added twice.
 */
export const skipCheckov = (scope: IConstruct, skips: readonly CheckovSkip[]): void => {
  const resource = scope.node.defaultChild as CfnResource
  const current = (resource.getMetadata('checkov') as { skip?: CheckovSkip[] } | undefined)?.skip
  const skip = [...(current ?? [])]
  for (const entry of skips) if (!skip.some((known) => known.id === entry.id)) skip.push(entry)
  resource.addMetadata('checkov', { skip })
}
