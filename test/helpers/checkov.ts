/**
 * checkov (PyPI) on CloudFormation templates, as the tests run it: one run for
 * several templates (it takes seconds to start), offline (`--skip-download`),
 * its executable from the Vitest global setup (`inject('checkov')`).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { inject } from 'vitest'

/** A check that failed on a resource, or was skipped with a reason. */
export interface CheckovResult {
  /** `CKV_AWS_158` */
  readonly id: string
  /** `AWS::Logs::LogGroup.LogGroup` */
  readonly resource: string
  /** The reason given in the resource's `Metadata.checkov.skip`. */
  readonly comment?: string
}

/** What checkov found in one template. */
export interface CheckovFindings {
  readonly passed: number
  readonly failed: CheckovResult[]
  readonly skipped: CheckovResult[]
}

interface Check {
  check_id: string
  resource: string
  file_path: string
  check_result: { suppress_comment?: string }
}

/** Runs checkov once over templates (name → template) and returns its findings by name. */
export const checkov = async (
  templates: Readonly<Record<string, unknown>>,
): Promise<Record<string, CheckovFindings>> => {
  const dir = await mkdtemp(join(tmpdir(), 'middy-chaos-checkov-'))
  try {
    const names = Object.keys(templates)
    for (const name of names)
      await writeFile(join(dir, `${name}.json`), `${JSON.stringify(templates[name], null, 2)}\n`)
    const args = [
      ...names.flatMap((name) => ['-f', `${name}.json`]),
      '--framework',
      'cloudformation',
      '--skip-download',
      '--compact',
      '--output',
      'json',
    ]
    // Exit code 1: some check failed; the JSON says which.
    const stdout = await promisify(execFile)(inject('checkov'), args, {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, LOG_LEVEL: 'WARNING' },
    }).then(
      ({ stdout }) => stdout,
      (error: { code?: number; stdout?: string; stderr?: string }) => {
        if (error.code !== 1 || !error.stdout) throw error
        return error.stdout
      },
    )
    const report = JSON.parse(stdout) as {
      results?: { passed_checks?: Check[]; failed_checks?: Check[]; skipped_checks?: Check[] }
      summary: { parsing_errors: number }
    }
    if (report.summary.parsing_errors > 0)
      throw new Error(`checkov could not parse a template: ${JSON.stringify(report.summary)}`)
    const of = (checks: Check[] | undefined, name: string) =>
      (checks ?? []).filter((check) => check.file_path === `/${name}.json`)
    return Object.fromEntries(
      names.map((name) => [
        name,
        {
          passed: of(report.results?.passed_checks, name).length,
          failed: of(report.results?.failed_checks, name).map((check) => ({
            id: check.check_id,
            resource: check.resource,
          })),
          skipped: of(report.results?.skipped_checks, name).map((check) => ({
            id: check.check_id,
            resource: check.resource,
            comment: check.check_result.suppress_comment ?? '',
          })),
        },
      ]),
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
