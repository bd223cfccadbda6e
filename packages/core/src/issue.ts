/** One problem found in a configuration document. */
export interface ConfigIssue {
  /** Where the problem is, as the document spells it: `faults[1].delay`, `error_code`. */
  path: string
  message: string
}
