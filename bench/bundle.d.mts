/** How esbuild bundles a function for Lambda here: one minified ESM file, the AWS SDK external. */
export declare const LAMBDA_BUNDLE: Readonly<{
  bundle: true
  minify: true
  format: 'esm'
  platform: 'node'
  target: string
  external: string[]
}>

/** Bytes of the workshop function's bundle in all, of this project's own code, and per package. */
export declare const measureBundle: () => Promise<{
  total: number
  own: number
  byPackage: Record<string, number>
}>
