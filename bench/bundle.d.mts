/** Bytes of the workshop function's bundle in all, of this project's own code, and per package. */
export declare const measureBundle: () => Promise<{
  total: number
  own: number
  byPackage: Record<string, number>
}>
