/** A version of a stored value: its text, and when the store wrote it (ISO 8601). */
export interface StoredVersion {
  readonly value: string
  readonly modifiedAt?: string | undefined
}

/** When a writer stamped a version, and the window the store's own version times give it. */
export interface StampWindow<V extends StoredVersion = StoredVersion> {
  readonly version: V
  /** `expiresAt` less what the writer added to its clock: when it stamped the value (epoch ms). */
  readonly stampedAt: number
  /** When the last earlier version with another stamp (or none) was written: the stamp is later. */
  readonly after: number
  /** When this version was written: the stamp is no later. */
  readonly written: number
}

/**
 * For each version (oldest first) whose value carries `expiresAt`: when the
 * writer stamped it (`expiresAt` less `aheadMs`), and the window the store's
 * version times allow it, whatever the load: after the last earlier version
 * with another stamp was written (a writer starts a round of writes once the
 * one before has landed; the renewals of one capped hold share its stamp), and
 * no later than its own write. A stamp outside its window was not made at its
 * write: a copy of an older one, or further ahead than `aheadMs`. Versions
 * without a `modifiedAt` give `NaN`, which no bound admits.
 *
 * @example
 * ```ts
 * for (const { stampedAt, after, written } of stampWindows(history, ttlMs)) {
 *   expect(stampedAt).toBeGreaterThanOrEqual(after)
 *   expect(stampedAt).toBeLessThanOrEqual(written)
 * }
 * ```
 */
export const stampWindows = <V extends StoredVersion>(
  versions: readonly V[],
  aheadMs: number,
): StampWindow<V>[] => {
  const expiryOf = (version: StoredVersion): string | undefined => {
    try {
      const { expiresAt } = JSON.parse(version.value) as { expiresAt?: unknown }
      return typeof expiresAt === 'string' ? expiresAt : undefined
    } catch {
      return undefined
    }
  }
  return versions.flatMap((version, index) => {
    const expiresAt = expiryOf(version)
    if (expiresAt === undefined) return []
    const before = versions.slice(0, index).findLast((earlier) => expiryOf(earlier) !== expiresAt)
    return [
      {
        version,
        stampedAt: Date.parse(expiresAt) - aheadMs,
        after:
          before === undefined ? Number.NEGATIVE_INFINITY : Date.parse(before.modifiedAt ?? ''),
        written: Date.parse(version.modifiedAt ?? ''),
      },
    ]
  })
}
