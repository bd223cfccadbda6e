/**
 * A local stand-in for the AWS X-Ray daemon: a UDP listener that reads what
 * the X-Ray SDK sends it (a JSON header line `{"format":"json","version":1}`,
 * then one segment or subsegment document) and keeps the documents.
 */
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'

/** A segment or subsegment document, as the X-Ray SDK sends it. */
export interface XrayDocument {
  name: string
  id: string
  trace_id?: string
  parent_id?: string
  type?: string
  namespace?: string
  start_time: number
  end_time?: number
  in_progress?: boolean
  annotations?: Record<string, unknown>
  metadata?: Record<string, Record<string, Record<string, unknown>>>
  fault?: boolean
  error?: boolean
  cause?: { exceptions?: { type?: string; message?: string }[] }
  subsegments?: XrayDocument[]
}

export const XRAY_HEADER = '{"format":"json","version":1}'

export interface XrayDaemon {
  /** `127.0.0.1:<port>`, for `AWS_XRAY_DAEMON_ADDRESS`. */
  readonly address: string
  /** Every document received, nested subsegments flattened (each with its `parent_id`). */
  readonly documents: XrayDocument[]
  /** Datagrams whose first line was not the protocol header. */
  readonly malformed: string[]
  /** The documents of one trace, once `ready` holds for them (or after `timeoutMs`). */
  trace(
    traceId: string,
    ready: (documents: XrayDocument[]) => boolean,
    timeoutMs?: number,
  ): Promise<XrayDocument[]>
  close(): Promise<void>
}

const flatten = (document: XrayDocument, into: XrayDocument[], traceId?: string): void => {
  const { subsegments, ...own } = document
  into.push({ ...own, ...(traceId === undefined || own.trace_id ? {} : { trace_id: traceId }) })
  for (const child of subsegments ?? [])
    flatten({ ...child, parent_id: document.id }, into, own.trace_id ?? traceId)
}

export const startXrayDaemon = async (): Promise<XrayDaemon> => {
  const socket = createSocket('udp4')
  const documents: XrayDocument[] = []
  const malformed: string[] = []
  socket.on('message', (message) => {
    const text = message.toString('utf8')
    const newline = text.indexOf('\n')
    if (newline === -1 || text.slice(0, newline) !== XRAY_HEADER) {
      malformed.push(text.slice(0, 200))
      return
    }
    flatten(JSON.parse(text.slice(newline + 1)) as XrayDocument, documents)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  return {
    address: `127.0.0.1:${port}`,
    documents,
    malformed,
    async trace(traceId, ready, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      const own = () => documents.filter((document) => document.trace_id === traceId)
      while (!ready(own()) && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
      return own()
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}

/** A new X-Ray trace id, `1-<epoch hex>-<24 hex>`. */
export const newTraceId = (): string =>
  `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`

/** The `_X_AMZN_TRACE_ID` Lambda sets for a sampled invocation of trace `traceId`. */
export const lambdaTraceHeader = (traceId: string): string =>
  `Root=${traceId};Parent=${randomBytes(8).toString('hex')};Sampled=1`
