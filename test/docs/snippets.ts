/**
 * The TypeScript snippets of the READMEs, as modules: extracted, written to a
 * directory inside the repository (so that the workspace's packages and
 * dependencies resolve as they do for the tests) and type-checked with the
 * project's TypeScript, one program per README.
 *
 * A fence is ```ts, optionally followed by attributes (the visible
 * conventions, and the only ones):
 *
 * - `file=<path>`: the snippet is written at that path of the README's
 *   program rather than as `snippet-<line>.ts`, so that another snippet of
 *   the README imports it (`import { makeHandler } from '../src/chain.js'`);
 * - `excerpt=<path>`: the snippet is lines of that file (a path from the
 *   README's folder), verbatim; the file itself is compiled by
 *   `pnpm typecheck`, and the snippet is checked to be in it, not compiled on
 *   its own.
 *
 * Every other snippet is compiled as written, as a module.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll } from 'vitest'

export const root = fileURLToPath(new URL('../..', import.meta.url))

/** Every README of the repository: the root's, each package's and each example's. */
export const readmes = (): string[] => [
  'README.md',
  ...['packages', 'examples'].flatMap((folder) =>
    readdirSync(join(root, folder))
      .map((name) => `${folder}/${name}/README.md`)
      .filter((path) => existsSync(join(root, path)))
      .sort(),
  ),
]

/** One fenced block of a README. */
export interface Fence {
  /** The README, from the repository root. */
  readonly readme: string
  /** The fence's language: `ts`, `json`, `sh`… */
  readonly lang: string
  /** Its attributes, `key=value` after the language. */
  readonly attributes: Readonly<Record<string, string>>
  /** The README line of the block's first line of code (1-based). */
  readonly line: number
  readonly code: string
}

const FENCE = /^```(\S*)(.*)$/

/** The fenced blocks of a README, in order (fences at the start of a line). */
export const fencesOf = (readme: string): Fence[] => {
  const lines = readFileSync(join(root, readme), 'utf8').split('\n')
  const fences: Fence[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '')
    if (!open) continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end] !== '```') end++
    const attributes: Record<string, string> = {}
    for (const token of (open[2] ?? '').trim().split(/\s+/).filter(Boolean)) {
      const [key = '', ...value] = token.split('=')
      attributes[key] = value.join('=')
    }
    fences.push({
      readme,
      lang: open[1] ?? '',
      attributes,
      line: start + 1,
      code: lines.slice(start, end).join('\n'),
    })
    i = end
  }
  return fences
}

/** The TypeScript snippets of a README. */
export const snippetsOf = (readme: string): Fence[] =>
  fencesOf(readme).filter((fence) => fence.lang === 'ts' || fence.lang === 'typescript')

/** Where a snippet is written in its README's program. */
export const fileOf = (snippet: Fence): string =>
  snippet.attributes.file ?? `snippet-${snippet.line}.ts`

/** The attributes a fence may carry; anything else is a mistake. */
export const ATTRIBUTES: ReadonlySet<string> = new Set(['file', 'excerpt'])

/** A directory of `.tmp` for generated programs, removed by the caller. */
export const scratch = async (name: string): Promise<string> => {
  const dir = join(root, '.tmp', 'docs', `${name}-${process.pid}-${Date.now()}`)
  await mkdir(dir, { recursive: true })
  return dir
}

/** A scratch directory for the tests of a `describe`: made before them, removed after. */
export const useScratch = (name: string): (() => string) => {
  let dir = ''
  beforeAll(async () => {
    dir = await scratch(name)
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return () => dir
}

const slug = (readme: string): string =>
  readme === 'README.md' ? 'root' : dirname(readme).replace(/\//g, '-')

/**
 * Writes the snippets of a README (but its excerpts) into `dir/<slug>` as the
 * modules of one program, with a tsconfig on the project's settings. Returns
 * the program's directory and which snippet each file holds.
 */
export const writeProgram = async (
  dir: string,
  readme: string,
): Promise<{ project: string; files: Map<string, Fence> }> => {
  const project = join(dir, slug(readme))
  await mkdir(project, { recursive: true })
  const files = new Map<string, Fence>()
  for (const snippet of snippetsOf(readme)) {
    if (snippet.attributes.excerpt !== undefined) continue
    const file = join(project, fileOf(snippet))
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, `${snippet.code}\n`)
    files.set(file, snippet)
  }
  await writeTsconfig(project)
  return { project, files }
}

/**
 * A tsconfig on the project's settings (`tsconfig.base.json`) in `project`,
 * for its `.ts` files: `@middy-chaos/*` resolves to the packages' sources,
 * as in `pnpm typecheck`.
 */
/** `pnpm typecheck`'s `paths` (the root tsconfig.json's), with absolute targets. */
const rootPaths = (): Record<string, string[]> => {
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> }
  }
  return Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([name, targets]) => [
      name,
      targets.map((target) => join(root, target)),
    ]),
  )
}

export const writeTsconfig = async (project: string): Promise<void> => {
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        extends: join(root, 'tsconfig.base.json'),
        compilerOptions: {
          noEmit: true,
          declaration: false,
          declarationMap: false,
          sourceMap: false,
          // A snippet is a module even without an import: no clash between snippets.
          moduleDetection: 'force',
          // The root tsconfig's paths (subpath entry points included), made absolute.
          paths: rootPaths(),
        },
        include: ['**/*.ts'],
      },
      null,
      2,
    ),
  )
}

const TSC = join(root, 'node_modules', '.bin', 'tsc')
const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/

/** One compiler error, where it is in the README when it is in a snippet. */
export interface Diagnostic {
  /** `packages/status-code/README.md:14` for a snippet; the file and line otherwise. */
  readonly at: string
  readonly code: string
  readonly message: string
}

/**
 * Type-checks a program with the project's TypeScript (`tsc -p`, as
 * `pnpm typecheck` does). Errors in a snippet are placed at their README line.
 */
export const typecheck = async (
  project: string,
  files: ReadonlyMap<string, Fence> = new Map(),
): Promise<Diagnostic[]> => {
  const output = await promisify(execFile)(TSC, ['-p', project, '--pretty', 'false'], {
    cwd: project,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string; message: string }) => error.stdout || error.message,
  )
  const diagnostics: Diagnostic[] = []
  for (const line of output.split('\n')) {
    const found = DIAGNOSTIC.exec(line)
    if (!found) {
      const last = diagnostics.at(-1)
      if (last && line.startsWith(' ')) {
        diagnostics[diagnostics.length - 1] = { ...last, message: `${last.message}\n${line}` }
      } else if (line.trim() !== '') {
        diagnostics.push({ at: '(tsc)', code: '', message: line })
      }
      continue
    }
    const [, file = '', row = '0', , code = '', message = ''] = found
    const absolute = resolve(project, file)
    const snippet = files.get(absolute)
    diagnostics.push({
      at: snippet
        ? `${snippet.readme}:${snippet.line + Number(row) - 1}`
        : `${relative(root, absolute)}:${row}`,
      code,
      message,
    })
  }
  return diagnostics
}
