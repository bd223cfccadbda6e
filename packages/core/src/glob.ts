/**
 * The one pattern language a config may use to name things by more than one
 * name (hosts in `@middy-chaos/http`, point names and labels in
 * `@middy-chaos/point`): a glob, never a regular expression from the config.
 *
 * @module
 */

/**
 * Whether `text` matches a glob where `*` is any run of characters (dots
 * included, possibly none), `?` exactly one, and every other character
 * itself (case-sensitive). A pattern without `*` or `?` is an exact
 * comparison. No regular expression is built; backtracking goes back to the
 * last `*` only, so a match takes at most pattern length × text length steps:
 * bound both where they come from (a config, a caller).
 *
 * @example
 * ```ts
 * globMatches('*.s3.*.amazonaws.com', 'bucket.s3.eu-west-1.amazonaws.com') // true
 * globMatches('orders.*', 'orders.charge') // true
 * globMatches('orders.?', 'orders.charge') // false
 * ```
 */
export const globMatches = (pattern: string, text: string): boolean => {
  let p = 0
  let t = 0
  let star = -1
  let mark = 0
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p += 1
      t += 1
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p
      mark = t
      p += 1
    } else if (star !== -1) {
      p = star + 1
      mark += 1
      t = mark
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1
  return p === pattern.length
}
