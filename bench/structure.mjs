// The import structure of every package's src/: files, lines, the largest file, import
// circles (type-only imports included), imports that run back up the package's layers, how
// deep the imports go, and which @middy-chaos packages each one imports.
// `node bench/structure.mjs` prints it; test/structure.test.ts holds the packages to it.
// A small scanner: regular expressions over the TypeScript sources, no compiler.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * The rooms of a package (a room: a folder under src/, or `.` for the files at src/'s top),
 * lowest first. A room may import from rooms at its level and below; an import into a
 * room listed later runs back up. Entry files (`index.ts`, `bin.ts`, `main.ts` at src/'s top)
 * sit above every room. Packages not listed here are one room.
 */
export const LAYERS = {
  cli: ['.', 'demo', 'stores', 'serve', 'runner', 'report', 'session', 'commands'],
  fis: ['.', 'local'],
}

/** The files at src/'s top that are entry points: above every room. */
export const ENTRY_FILES = ['index.ts', 'bin.ts', 'main.ts']

/** Every `import … from`, `export … from`, `import '…'` and `import('…')` specifier. */
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** Comments removed (a `@example` in a doc comment is no import). */
const stripComments = (text) =>
  text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')

/** The specifiers a source imports. */
export const importsOf = (text) => {
  const found = []
  for (const match of stripComments(text).matchAll(IMPORT)) found.push(match[1] ?? match[2])
  return found
}

/** Every `.ts` file under `dir` (no `.d.ts`), relative to it, sorted. */
const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(
      (entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'),
    )
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()

/** The file a relative specifier names (`./x.js` → `x.ts`, `./dir` → `dir/index.ts`). */
const resolveLocal = (from, specifier, files) => {
  const base = join(dirname(from), specifier).replace(/\.js$/, '')
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (files.has(candidate)) return candidate
  }
  return undefined
}

/** The room of a file: its first folder under src/, `.` at the top, `(entry)` for entry files. */
export const roomOf = (file) => {
  const parts = file.split('/')
  if (parts.length === 1) return ENTRY_FILES.includes(file) ? '(entry)' : '.'
  return parts[0]
}

/** Strongly connected components of more than one file, or of one that imports itself. */
const circles = (graph) => {
  let index = 0
  const indices = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const found = []
  const visit = (node) => {
    indices.set(node, index)
    low.set(node, index)
    index += 1
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node), low.get(next)))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indices.get(next)))
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component = []
      let member
      do {
        member = stack.pop()
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) {
        found.push(component.sort())
      }
    }
  }
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node)
  return found
}

/** The longest chain of imports (files, circles counted once), from any file. */
const depth = (graph, components) => {
  const componentOf = new Map()
  components.forEach((component, i) => {
    for (const file of component) componentOf.set(file, `circle${i}`)
  })
  const node = (file) => componentOf.get(file) ?? file
  const condensed = new Map()
  for (const [file, imports] of graph) {
    const from = node(file)
    const set = condensed.get(from) ?? new Set()
    for (const target of imports) if (node(target) !== from) set.add(node(target))
    condensed.set(from, set)
  }
  const memo = new Map()
  const longest = (n) => {
    if (memo.has(n)) return memo.get(n)
    let best = 1
    for (const next of condensed.get(n) ?? []) best = Math.max(best, 1 + longest(next))
    memo.set(n, best)
    return best
  }
  return Math.max(0, ...[...condensed.keys()].map(longest))
}

/** What the scanner finds in one package's src/. */
export const scanPackage = (name) => {
  const src = join(root, 'packages', name, 'src')
  const list = sources(src)
  const files = new Set(list)
  const graph = new Map()
  const lines = {}
  const packagesImported = new Set()
  const external = {}
  for (const file of list) {
    const text = readFileSync(join(src, file), 'utf8')
    lines[file] = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    const local = []
    for (const specifier of importsOf(text)) {
      if (specifier.startsWith('.')) {
        const target = resolveLocal(file, specifier, files)
        if (target) local.push(target)
      } else {
        const scoped = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]
        if (scoped.startsWith('@middy-chaos/')) packagesImported.add(specifier)
        external[file] = [...(external[file] ?? []), specifier]
      }
    }
    graph.set(file, [...new Set(local)])
  }
  const layers = LAYERS[name]
  const rank = (room) => {
    if (room === '(entry)') return Number.POSITIVE_INFINITY
    if (!layers) return 0
    const at = layers.indexOf(room)
    return at === -1 ? layers.length : at
  }
  const backUp = []
  for (const [file, imports] of graph) {
    for (const target of imports) {
      if (rank(roomOf(target)) > rank(roomOf(file))) backUp.push(`${file} → ${target}`)
    }
  }
  const found = circles(graph)
  const largest = list.reduce((a, b) => (lines[b] > (lines[a] ?? -1) ? b : a), list[0])
  return {
    name,
    files: list.length,
    lines: Object.values(lines).reduce((a, b) => a + b, 0),
    largest: largest ? { file: largest, lines: lines[largest] } : undefined,
    lineCounts: lines,
    circles: found,
    backUp,
    depth: depth(graph, found),
    imports: graph,
    external,
    packagesImported: [...packagesImported].sort(),
  }
}

/** Every package under packages/, scanned. */
export const scanAll = () =>
  readdirSync(join(root, 'packages'))
    .sort()
    .map((name) => scanPackage(name))

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const scans = scanAll()
  const total = scans.reduce((sum, scan) => sum + scan.lines, 0)
  const rows = [
    ['package', 'files', 'lines', 'share', 'largest file', 'depth', 'circles', 'back up'],
    ...scans.map((scan) => [
      scan.name,
      String(scan.files),
      String(scan.lines),
      `${((100 * scan.lines) / total).toFixed(0)} %`,
      scan.largest ? `${scan.largest.file} (${scan.largest.lines})` : '-',
      String(scan.depth),
      String(scan.circles.length),
      String(scan.backUp.length),
    ]),
  ]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '))
  console.log(`\n${total} lines of source in packages/*/src`)
  for (const scan of scans) {
    for (const circle of scan.circles) console.log(`circle in ${scan.name}: ${circle.join(' ↔ ')}`)
    for (const edge of scan.backUp) console.log(`back up in ${scan.name}: ${edge}`)
    const over = Object.entries(scan.lineCounts).filter(([, n]) => n > 500)
    for (const [file, n] of over) console.log(`over 500 lines in ${scan.name}: ${file} (${n})`)
    const tooling = scan.packagesImported.filter((p) =>
      /^@middy-chaos\/(cli|fis|experiment|cdk)(\/|$)/.test(p),
    )
    if (tooling.length > 0) console.log(`${scan.name} imports ${tooling.join(', ')}`)
  }
}
