/** A package's rooms, lowest first (see bench/structure.mjs). */
export declare const LAYERS: Record<string, string[]>
/** Files at src/'s top that are entry points, above every room. */
export declare const ENTRY_FILES: string[]
/** The specifiers a source imports (`import`, `export … from`, `import()`). */
export declare const importsOf: (text: string) => string[]
/** The room of a file under src/: its first folder, `.` at the top, `(entry)` for entry files. */
export declare const roomOf: (file: string) => string

/** What the scanner finds in one package's src/. */
export interface PackageScan {
  name: string
  files: number
  lines: number
  largest: { file: string; lines: number } | undefined
  lineCounts: Record<string, number>
  circles: string[][]
  backUp: string[]
  depth: number
  imports: Map<string, string[]>
  external: Record<string, string[]>
  packagesImported: string[]
}

export declare const scanPackage: (name: string) => PackageScan
export declare const scanAll: () => PackageScan[]
