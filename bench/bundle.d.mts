/** How esbuild bundles a function for Lambda here: one minified ESM file, the AWS SDK external. */
export declare const LAMBDA_BUNDLE: Readonly<{
  bundle: true
  minify: true
  format: 'esm'
  platform: 'node'
  target: string
  external: string[]
}>

/** Packages left out of {@link measureBundle} unless `withTracer`: the example's Powertools Tracer. */
export declare const TRACER_PACKAGES: string[]

/**
 * Bytes of the workshop function's bundle in all, of this project's own code, and per package;
 * the source files it was made of, as the packages' source maps name them.
 */
export declare const measureBundle: (options?: { withTracer?: boolean }) => Promise<{
  total: number
  own: number
  byPackage: Record<string, number>
  sources: string[]
}>
