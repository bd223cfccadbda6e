/**
 * The CHANGELOG entries: Changesets' own (`@changesets/cli/changelog`: the
 * commit and the changeset's text), without the "Updated dependencies" list
 * of the other @middy-chaos packages, which always move with this one (they
 * are one fixed group: the heading's version is theirs too). An update of a
 * package outside the group would still be listed.
 */
import changelog from '@changesets/cli/changelog'

const OURS = /^@middy-chaos\//

export default {
  getReleaseLine: changelog.getReleaseLine,
  getDependencyReleaseLine: (changesets, dependenciesUpdated, options) =>
    changelog.getDependencyReleaseLine(
      changesets,
      dependenciesUpdated.filter((dependency) => !OURS.test(dependency.name)),
      options,
    ),
}
