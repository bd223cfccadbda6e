// Cost per AWS SDK call of @middy-chaos/aws-sdk with its faults off: a DynamoDB
// client whose HTTP handler answers at once from memory (no network, so only the
// SDK's own work is measured), bare, instrumented by chaosAwsSdk outside any
// invocation, and inside an invocation whose config has no aws_sdk fault.
// Run after `pnpm build`:  node bench/sdk-call.mjs   (part of `pnpm bench`)
//
// @middy-chaos/http patches nothing while its faults are off, so a request made
// through fetch or node:http costs exactly what it costs without it.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import { chaosAwsSdk } from '../packages/aws-sdk/lib/index.js'

const body = new TextEncoder().encode('{"TableNames":[]}')
/** An HTTP handler that answers every request at once, as DynamoDB would. */
const memoryHandler = {
  handle: async () => ({
    response: {
      statusCode: 200,
      reason: 'OK',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' },
      body,
    },
  }),
  updateHttpClientConfig: () => undefined,
  httpHandlerConfigs: () => ({}),
}
const client = () =>
  new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: memoryHandler,
  })
const context = {
  awsRequestId: 'bench',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 30_000,
}
const otherFault = { version: 1, faults: [{ type: 'cpu_burn', rate: 1 }] }

const N = 2_000
const scenarios = {
  bare: () => {
    const ddb = client()
    return () => ddb.send(new ListTablesCommand({}))
  },
  'instrumented, outside an invocation': () => {
    const ddb = client()
    chaosAwsSdk({ config: otherFault, clients: [ddb] })
    return () => ddb.send(new ListTablesCommand({}))
  },
  'instrumented, in an invocation, other fault live': () => {
    const ddb = client()
    // One invocation making all the calls of a round.
    const handler = middy(async (calls) => {
      for (let i = 0; i < calls; i++) await ddb.send(new ListTablesCommand({}))
    }).use(chaosAwsSdk({ config: otherFault, clients: [ddb] }))
    return { round: (calls) => handler(calls, context) }
  },
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const scenario = process.argv[2]
if (scenario) {
  const made = scenarios[scenario]()
  const round =
    typeof made === 'function'
      ? async (calls) => {
          for (let i = 0; i < calls; i++) await made()
        }
      : made.round
  await round(N) // warm-up
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < Number(process.env.ROUNDS ?? 5); r++) {
    const start = process.hrtime.bigint()
    await round(N)
    best = Math.min(best, Number(process.hrtime.bigint() - start) / N)
  }
  console.log(best)
} else {
  const self = fileURLToPath(import.meta.url)
  const repeats = Number(process.env.REPEATS ?? 5)
  const results = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]))
  // Interleaved: each scenario once per pass, in its own process.
  for (let pass = 0; pass < repeats; pass++)
    for (const name of Object.keys(scenarios))
      results[name].push(Number(execFileSync(process.execPath, [self, name], { encoding: 'utf8' })))
  const bare = median(results.bare)
  console.log(
    `\nAWS SDK call (DynamoDB ListTables, answered from memory), ns per call, median of ${repeats} processes, ${new Date().toISOString().slice(0, 10)}\n`,
  )
  console.log('| client | ns per call | over bare |')
  console.log('| --- | ---: | ---: |')
  for (const [name, values] of Object.entries(results)) {
    const ns = median(values)
    console.log(
      `| ${name} | ${ns.toFixed(0)} | ${name === 'bare' ? '—' : `${ns - bare >= 0 ? '+' : ''}${(ns - bare).toFixed(0)}`} |`,
    )
  }
}
