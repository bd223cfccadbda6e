/**
 * The registry: every fault the tooling knows (`set` and `experiment validate`
 * check entries with it, `status` and the probe describe them, `enable` offers
 * their flags, the format translators read their spellings).
 *
 * Adding a fault type is a new package under `packages/` whose `src/index.ts`
 * exports its `FaultDefinition`, plus one line here and the package in the
 * `dependencies` of this package (`@middy-chaos/experiment`). A test fails when
 * a package exports a fault that is missing from this list.
 *
 * @module
 */

import { awsSdkFault } from '@middy-chaos/aws-sdk'
import { batchFailureFault } from '@middy-chaos/batch-failure'
import type { FaultCatalog } from '@middy-chaos/core'
import { diskspaceFault } from '@middy-chaos/diskspace'
import { eventFault } from '@middy-chaos/event'
import { exceptionFault } from '@middy-chaos/exception'
import { httpFault } from '@middy-chaos/http'
import { latencyFault } from '@middy-chaos/latency'
import { pointFault } from '@middy-chaos/point'
import { responseFault } from '@middy-chaos/response'
import { statusCodeFault } from '@middy-chaos/status-code'
import { timeoutFault } from '@middy-chaos/timeout'

/** Every fault of middy-chaos, in the order people meet them (the workshop's three first). */
export const FAULTS: FaultCatalog = Object.freeze([
  latencyFault,
  statusCodeFault,
  exceptionFault,
  awsSdkFault,
  httpFault,
  batchFailureFault,
  responseFault,
  eventFault,
  timeoutFault,
  diskspaceFault,
  pointFault,
])
