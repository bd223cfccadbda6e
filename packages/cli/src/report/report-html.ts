/**
 * The HTML report: one self-contained page, no script and no request. The
 * timeline is an SVG drawn here (every probe request a point, every phase a
 * band, every write, stop, restore and verdict a mark), then the per-step
 * table with the very cells the terminal prints, the events, the outcome and
 * the experiment file. Everything that comes from the run is escaped.
 *
 * @module
 */
import type { JudgedScope, ProbeSample, Verdict } from '@middy-chaos/experiment'
import {
  countLeftOut,
  formatDuration,
  formatElapsed,
  SUMMARY_COLUMNS,
  type SummaryColumn,
  summaryCells,
  summaryNote,
} from './output.js'
import type { RunRecord, SessionMark } from './record.js'

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (text: string): string =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')

/** JSON that can sit in a `<script type="application/json">`: no `<`, `>`, `&` or line separators. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029')

/** Colours of the status classes (fill and stroke attributes: they show even where CSS is blocked). */
export const STATUS_COLOURS: Readonly<Record<string, string>> = {
  '2xx': '#2f9e44',
  '3xx': '#1c7ed6',
  '4xx': '#f08c00',
  '5xx': '#e03131',
  '000': '#212529',
}

/** `2xx`…`5xx`, or `000` for no answer. */
export const statusClass = (status: number): string =>
  status === 0 ? '000' : status >= 200 && status < 600 ? `${Math.floor(status / 100)}xx` : '3xx'

const isError = (sample: ProbeSample) => sample.status === 0 || sample.status >= 500

/** What the exit codes mean. */
const EXIT_CODES: Readonly<Record<number, string>> = {
  0: 'completed',
  1: 'a runtime failure (restored)',
  2: 'refused for what it was given (nothing written)',
  3: 'the restore failed',
  4: 'stopped by a stop condition or a lost probe (restored)',
  5: 'refused: another experiment holds the parameter',
  6: 'an expectation failed (restored)',
  130: 'interrupted by SIGINT (restored)',
  143: 'interrupted by SIGTERM (restored)',
}

const CHART = { width: 1120, height: 440, left: 64, right: 20, top: 78, bottom: 40 }
const LABEL_ROWS = 3

/** Round tick steps: 1, 2, 5 times a power of ten, at most `count` ticks. */
const tickStep = (span: number, count: number): number => {
  const raw = span / Math.max(1, count)
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw)
  return step ?? 10 * power
}

const round = (n: number) => Math.round(n * 10) / 10

/** Truncates a label to about `chars` characters. */
const fit = (text: string, chars: number): string =>
  chars < 2 ? '' : text.length <= chars ? text : `${text.slice(0, Math.max(1, chars - 1))}…`

const verdictTitle = (scope: JudgedScope): string =>
  [
    `${scope.name}: expectations`,
    ...scope.verdicts.map((v) => `${v.held ? '✔' : '✖'} ${v.expectation}: ${v.measured}`),
  ].join('\n')

const markLabel = (mark: SessionMark): string => {
  switch (mark.type) {
    case 'step':
      return `${mark.step} ${mark.state}${mark.error ? `: ${mark.error}` : ''}`
    case 'write':
      return `${mark.step} wrote version ${mark.version}: ${mark.config}`
    case 'renewal-failed':
      return `could not renew the lease and the expiry: ${mark.error}`
    case 'stopped':
      return `STOPPED by ${mark.reason}`
    case 'restored':
      return mark.text
  }
}

/** The SVG timeline: bands, points, marks and verdicts. */
const renderChart = (record: RunRecord): string => {
  const { width, height, left, right, top, bottom } = CHART
  const plotWidth = width - left - right
  const plotHeight = height - top - bottom
  const endMs = Math.max(
    record.endedAtMs,
    ...record.samples.map((s) => s.startedAtMs + s.seconds * 1000),
    1,
  )
  const maxSeconds = Math.max(0.01, ...record.samples.map((s) => s.seconds))
  const yStep = tickStep(maxSeconds * 1.08, 6)
  const yMax = Math.ceil((maxSeconds * 1.08) / yStep) * yStep
  const x = (ms: number) => round(left + (Math.min(Math.max(ms, 0), endMs) / endMs) * plotWidth)
  const y = (seconds: number) => round(top + plotHeight - (seconds / yMax) * plotHeight)
  const parts: string[] = []

  // Bands: one per phase, steps shaded, the probe's own phases ((baseline), (restore), (after)) lighter.
  const labelEnds = Array.from({ length: LABEL_ROWS }, () => Number.NEGATIVE_INFINITY)
  let stepIndex = 0
  record.phases.forEach((phase, index) => {
    const start = x(phase.startedAtMs)
    const end = x(record.phases[index + 1]?.startedAtMs ?? endMs)
    const isStep = !phase.name.startsWith('(')
    const fill = isStep ? (stepIndex++ % 2 === 0 ? '#e7f0fb' : '#dbe7f7') : '#f4f4f5'
    const bandWidth = Math.max(1.5, end - start)
    const title = `${phase.name}${phase.config ? `: ${phase.config}` : ''} (from ${formatElapsed(phase.startedAtMs)})`
    parts.push(
      `<g class="band ${isStep ? 'step' : 'phase'}" data-phase="${escapeHtml(phase.name)}"><title>${escapeHtml(title)}</title>` +
        `<rect x="${start}" y="${top}" width="${round(bandWidth)}" height="${plotHeight}" fill="${fill}"/>` +
        `<line x1="${start}" y1="${top - 6}" x2="${start}" y2="${top + plotHeight}" stroke="#adb5bd" stroke-width="1"/>`,
    )
    // The name and config above the plot, in the first label row with room.
    const chars = Math.floor((width - right - start - 4) / 6.2)
    const name = fit(phase.name, Math.min(chars, 40))
    const config = fit(phase.config, Math.min(chars, 40))
    const labelWidth = Math.max(name.length, config.length) * 6.2 + 8
    const row = labelEnds.findIndex((endX) => endX < start)
    if (row >= 0 && name !== '') {
      labelEnds[row] = start + labelWidth
      const baseY = 14 + row * 21
      parts.push(
        `<text x="${start + 3}" y="${baseY}" font-size="11" font-weight="600" fill="#343a40">${escapeHtml(name)}</text>` +
          `<text x="${start + 3}" y="${baseY + 10}" font-size="9.5" fill="#495057">${escapeHtml(config)}</text>`,
      )
    }
    parts.push('</g>')
  })

  // Settling times: after each write, hatched over the bands; the requests starting in one are not judged.
  const settle = record.settle
  for (const band of settle?.bands ?? []) {
    const start = x(band.fromMs)
    const end = x(Math.min(band.toMs, endMs))
    parts.push(
      `<g class="settling-band" data-from-ms="${band.fromMs}" data-to-ms="${band.toMs}"><title>${escapeHtml(`settling [${formatElapsed(band.fromMs)} to ${formatElapsed(band.toMs)}]: the functions may still hold the previous config (${settle?.why ?? ''}); requests starting here are drawn, not judged`)}</title>` +
        `<rect x="${start}" y="${top}" width="${round(Math.max(1.5, end - start))}" height="${plotHeight}" fill="url(#settling)"/></g>`,
    )
  }

  // Axes and grid.
  for (let s = 0; s <= yMax + 1e-9; s += yStep) {
    const at = y(s)
    parts.push(
      `<line x1="${left}" y1="${at}" x2="${width - right}" y2="${at}" stroke="#000" stroke-opacity="0.08"/>` +
        `<text x="${left - 6}" y="${at + 3.5}" font-size="10" text-anchor="end" fill="#495057">${s < 1 && yStep < 1 ? `${Math.round(s * 1000)}ms` : `${Number(s.toFixed(2))}s`}</text>`,
    )
  }
  const xStep = tickStep(endMs / 1000, 12) * 1000
  for (let ms = 0; ms <= endMs; ms += xStep) {
    parts.push(
      `<line x1="${x(ms)}" y1="${top + plotHeight}" x2="${x(ms)}" y2="${top + plotHeight + 4}" stroke="#495057"/>` +
        `<text x="${x(ms)}" y="${top + plotHeight + 16}" font-size="10" text-anchor="middle" fill="#495057">${formatElapsed(ms)}</text>`,
    )
  }
  parts.push(
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}" stroke="#495057"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#495057"/>`,
    `<text x="${left + plotWidth / 2}" y="${height - 4}" font-size="11" text-anchor="middle" fill="#343a40">time since the probe started (mm:ss), each request where it started</text>`,
    `<text x="14" y="${top + plotHeight / 2}" font-size="11" text-anchor="middle" fill="#343a40" transform="rotate(-90 14 ${top + plotHeight / 2})">latency</text>`,
  )

  // Marks: writes (dashed), renewals that failed, stop conditions, restores.
  for (const mark of record.marks) {
    if (mark.type === 'step') continue
    const at = x(mark.atMs)
    const style =
      mark.type === 'write'
        ? { stroke: '#868e96', dash: '3 3', label: `v${mark.version}` }
        : mark.type === 'stopped'
          ? { stroke: '#c92a2a', dash: '', label: 'STOPPED' }
          : mark.type === 'restored'
            ? {
                stroke: '#7048e8',
                dash: '',
                label:
                  mark.restore.action === 'restored'
                    ? `restored v${mark.restore.version}`
                    : mark.restore.action,
              }
            : { stroke: '#f08c00', dash: '2 2', label: 'renewal failed' }
    parts.push(
      `<g class="mark ${mark.type}"><title>${escapeHtml(`[${formatElapsed(mark.atMs)}] ${markLabel(mark)}`)}</title>` +
        `<line x1="${at}" y1="${top}" x2="${at}" y2="${top + plotHeight}" stroke="${style.stroke}" stroke-width="${mark.type === 'write' ? 1 : 2}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>` +
        `<text x="${mark.type === 'stopped' ? at - 3 : at + 3}" y="${mark.type === 'write' ? top + 12 : top + 36}"${mark.type === 'stopped' ? ' text-anchor="end"' : ''} font-size="10" fill="${style.stroke}">${escapeHtml(style.label)}</text></g>`,
    )
  }

  // Points: a circle per answer, a cross per error (no answer or 5xx); hollow when it straddled a change.
  for (const sample of record.samples) {
    const cls = statusClass(sample.status)
    const colour = STATUS_COLOURS[cls] ?? '#000'
    const cx = x(sample.startedAtMs)
    const cy = y(sample.seconds)
    const leftOut = sample.straddles
      ? ' (in flight across a change: left out of the table)'
      : sample.settling
        ? ' (in the settling time after a write: not judged)'
        : ''
    const title = `#${sample.seq} [${formatElapsed(sample.startedAtMs)}] ${sample.phase}: ${sample.status === 0 ? '000' : sample.status} in ${sample.seconds.toFixed(3)}s: ${sample.body.length > 120 ? `${sample.body.slice(0, 120)}…` : sample.body}${leftOut}`
    const classes = `sample s${cls}${isError(sample) ? ' error' : ''}${sample.straddles ? ' straddles' : ''}${sample.settling ? ' settling' : ''}`
    const shape = isError(sample)
      ? `<path d="M${round(cx - 3.5)} ${round(cy - 3.5)}L${round(cx + 3.5)} ${round(cy + 3.5)}M${round(cx - 3.5)} ${round(cy + 3.5)}L${round(cx + 3.5)} ${round(cy - 3.5)}" stroke="${colour}" stroke-width="${sample.straddles ? 1 : 2}" fill="none"/>`
      : `<circle cx="${cx}" cy="${cy}" r="3.2" fill="${sample.straddles ? '#fff' : colour}" stroke="${colour}" stroke-width="1.2"/>`
    parts.push(
      `<g class="${classes}" data-seq="${sample.seq}" data-status="${sample.status}"${sample.settling ? ' opacity="0.5"' : ''}><title>${escapeHtml(title)}</title>${shape}</g>`,
    )
  }

  // Verdicts: a badge where each step was judged (inside its band's end), the run's beside it.
  for (const scope of record.judged) {
    const held = scope.verdicts.every((v) => v.held)
    const at = x(scope.atMs) + (scope.scope === 'run' ? 11 : -11)
    const colour = held ? '#2b8a3e' : '#c92a2a'
    const cy = top + (scope.scope === 'run' ? 58 : 14)
    parts.push(
      `<g class="verdict ${held ? 'held' : 'failed'}" data-scope="${escapeHtml(scope.name)}"><title>${escapeHtml(verdictTitle(scope))}</title>` +
        `<circle cx="${at}" cy="${cy}" r="9" fill="${colour}" stroke="#fff" stroke-width="1.5"/>` +
        `<text x="${at}" y="${cy + 4}" font-size="12" font-weight="700" text-anchor="middle" fill="#fff">${held ? '✔' : '✖'}</text>` +
        (scope.scope === 'run'
          ? `<text x="${at + 12}" y="${cy + 4}" font-size="10" fill="${colour}">all steps</text>`
          : '') +
        '</g>',
    )
  }

  const defs =
    '<defs><pattern id="settling" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff3bf" fill-opacity="0.45"/><line x1="0" y1="0" x2="0" y2="8" stroke="#e8b100" stroke-opacity="0.35" stroke-width="3"/></pattern></defs>'
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="Latency of every probe request over time, by status class, with the steps as bands" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">${defs}${parts.join('')}</svg>`
}

const legend = (record: RunRecord): string => {
  const counts = new Map<string, number>()
  for (const sample of record.samples) {
    const cls = statusClass(sample.status)
    counts.set(cls, (counts.get(cls) ?? 0) + 1)
  }
  const items = Object.entries(STATUS_COLOURS)
    .filter(([cls]) => counts.has(cls))
    .map(
      ([cls, colour]) =>
        `<li><svg width="12" height="12" viewBox="0 0 12 12">${cls === '000' || cls === '5xx' ? `<path d="M2 2L10 10M2 10L10 2" stroke="${colour}" stroke-width="2"/>` : `<circle cx="6" cy="6" r="4" fill="${colour}"/>`}</svg> ${cls === '000' ? 'no answer' : cls} (${counts.get(cls)})</li>`,
    )
  const straddling = record.samples.filter((s) => s.straddles).length
  const has = (type: SessionMark['type']) => record.marks.some((mark) => mark.type === type)
  const more = [
    straddling > 0
      ? `<li><svg width="12" height="12" viewBox="0 0 12 12"><circle cx="6" cy="6" r="4" fill="#fff" stroke="#495057"/></svg> in flight across a change, left out of the table (${straddling})</li>`
      : '',
    record.phases.some((phase) => !phase.name.startsWith('('))
      ? '<li><span class="swatch" style="background:#e7f0fb"></span> step</li>'
      : '',
    (record.settle?.bands.length ?? 0) > 0
      ? `<li id="settling-legend"><span class="swatch settling"></span> settling time after a write, ${escapeHtml(formatDuration(record.settle?.ms ?? 0))}: requests starting in it are not judged (${record.samples.filter((s) => s.settling && !s.straddles).length})</li>`
      : '',
    has('write') ? '<li><span class="line dashed"></span> write (version)</li>' : '',
    has('stopped')
      ? '<li><span class="line" style="border-color:#c92a2a"></span> stop condition</li>'
      : '',
    has('restored')
      ? '<li><span class="line" style="border-color:#7048e8"></span> restore</li>'
      : '',
    record.judged.length > 0
      ? '<li><span class="badge held">✔</span><span class="badge failed">✖</span> expectations judged (hover for the verdicts)</li>'
      : '',
  ]
  return `<ul class="legend">${items.join('')}${more.join('')}</ul>`
}

const summaryTable = (record: RunRecord): string => {
  const columns = SUMMARY_COLUMNS.filter(
    (column) => column !== 'expectations' || record.rows.some((row) => row.verdicts !== undefined),
  )
  const numeric = new Set<SummaryColumn>(['requests', 'p50', 'p95', 'p99'])
  const body = record.rows
    .map((row) => {
      const cells = summaryCells(row)
      const failed = row.verdicts?.some((v) => !v.held)
      return `<tr${row.aggregate ? ' class="aggregate"' : ''}>${columns
        .map(
          (column) =>
            `<td data-column="${column}"${numeric.has(column) ? ' class="num"' : ''}${column === 'expectations' && row.verdicts ? ` class="${failed ? 'failed' : 'held'}"` : ''}>${escapeHtml(cells[column])}</td>`,
        )
        .join('')}</tr>`
    })
    .join('')
  const note = summaryNote(countLeftOut(record.samples))
  return `<table id="summary"><caption>${escapeHtml(record.summaryTitle)}</caption><thead><tr>${columns.map((c) => `<th${numeric.has(c) ? ' class="num"' : ''}>${c}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>${note ? `<p class="note" id="summary-note">${escapeHtml(note)}</p>` : ''}`
}

const verdictList = (verdicts: readonly Verdict[]): string =>
  `<ul class="verdicts">${verdicts.map((v) => `<li class="${v.held ? 'held' : 'failed'}"><span class="badge ${v.held ? 'held' : 'failed'}">${v.held ? '✔' : '✖'}</span> <code>${escapeHtml(v.expectation)}</code>: ${escapeHtml(v.measured)}</li>`).join('')}</ul>`

const expectationsSection = (record: RunRecord): string => {
  if (record.judged.length === 0) return ''
  return `<section id="expectations"><h2>Expectations</h2>${record.judged
    .map(
      (scope) =>
        `<h3>${escapeHtml(scope.scope === 'run' ? 'All steps' : scope.name)} <small>judged at ${formatElapsed(scope.atMs)} over ${scope.verdicts[0]?.requests ?? 0} requests</small></h3>${verdictList(scope.verdicts)}`,
    )
    .join('')}</section>`
}

const eventsSection = (record: RunRecord): string => {
  const lines = [
    ...record.phases.map((phase) => ({
      atMs: phase.startedAtMs,
      text: `phase ${phase.name}${phase.config ? `: ${phase.config}` : ''}`,
      cls: 'phase',
    })),
    ...record.marks
      .filter((mark) => mark.type !== 'step' || mark.state !== 'running')
      .map((mark) => ({ atMs: mark.atMs, text: markLabel(mark), cls: mark.type })),
    ...record.judged.map((scope) => ({
      atMs: scope.atMs,
      text: `${scope.name}: ${scope.verdicts.filter((v) => v.held).length} of ${scope.verdicts.length} expectations held`,
      cls: 'verdict',
    })),
  ].sort((a, b) => a.atMs - b.atMs)
  return `<section id="events"><h2>Events</h2><ol class="events">${lines.map((line) => `<li class="${line.cls}"><time>${formatElapsed(line.atMs)}</time> ${escapeHtml(line.text)}</li>`).join('')}</ol></section>`
}

const facts = (record: RunRecord): string => {
  const { outcome } = record
  const rows: [string, string][] = [
    ['outcome', outcome.text],
    ['exit code', `${outcome.exitCode}: ${EXIT_CODES[outcome.exitCode] ?? 'see the CLI README'}`],
  ]
  const { restore } = outcome
  if (restore?.action === 'restored')
    rows.push(
      ['restored', `version ${restore.version}: the value from before the experiment`],
      ['restored value', restore.value ?? ''],
    )
  else if (restore) rows.push(['restore', restore.text])
  if (record.store) rows.push(['store', record.store])
  if (record.url)
    rows.push([
      'probe',
      `${record.url}${record.intervalMs === undefined ? '' : `, every ${formatDuration(record.intervalMs)}`}`,
    ])
  rows.push(['started', record.startedAt], ['length', formatDuration(record.endedAtMs)])
  if (record.waits) rows.push(['waits', record.waits])
  if (record.settle)
    rows.push([
      'settling',
      record.settle.ms > 0
        ? `${formatDuration(record.settle.ms)} after each write, not judged: ${record.settle.why}`
        : `none: ${record.settle.why}`,
    ])
  for (const warning of record.warnings ?? []) rows.push(['warning', warning])
  if (record.lease) rows.push(['lease', `${record.lease.id} (expiry renewed while the run lived)`])
  return `<dl class="facts">${rows.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${term === 'restored value' ? `<code>${escapeHtml(value)}</code>` : escapeHtml(value)}</dd>`).join('')}</dl>`
}

const STYLE = `
:root{color-scheme:light;--fg:#212529;--muted:#495057;--line:#dee2e6}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:#fff;max-width:1220px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:14px;margin:14px 0 4px}h3 small{color:var(--muted);font-weight:400}
.description{color:var(--muted);margin:0 0 12px}
.status{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;margin:0 8px 8px 0}
.status.good{background:#d3f9d8;color:#2b8a3e}.status.bad{background:#ffe3e3;color:#c92a2a}.status.warn{background:#fff3bf;color:#8f5b00}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 0}.facts dt{color:var(--muted)}.facts dd{margin:0;overflow-wrap:anywhere}
#timeline{width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
.legend{list-style:none;padding:0;margin:6px 0 0;display:flex;flex-wrap:wrap;gap:4px 16px;color:var(--muted);font-size:12.5px}
.legend li{display:flex;align-items:center;gap:5px}
.swatch{display:inline-block;width:14px;height:10px;border:1px solid #adb5bd}
.swatch.settling{background:repeating-linear-gradient(45deg,#fff3bf 0 3px,#f5d76e 3px 5px)}
.line{display:inline-block;width:14px;border-top:2px solid #868e96}.line.dashed{border-top-style:dashed;border-top-width:1px}
.badge{display:inline-block;width:16px;height:16px;border-radius:8px;color:#fff;text-align:center;font-size:11px;line-height:16px;font-weight:700}
.badge.held{background:#2b8a3e}.badge.failed{background:#c92a2a}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:4px}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f8f9fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.held{color:#2b8a3e;font-weight:600}td.failed{color:#c92a2a;font-weight:600}tr.aggregate td{border-top:2px solid #adb5bd;font-style:italic}
.verdicts{list-style:none;padding:0;margin:0}.verdicts li{margin:2px 0}
.events{list-style:none;padding:0;margin:0;font:12.5px/1.6 ui-monospace,SFMono-Regular,Menlo,monospace}.events time{color:var(--muted);margin-right:6px}
.events .stopped,.events .renewal-failed{color:#c92a2a}.events .restored{color:#7048e8}
pre{background:#f8f9fa;border:1px solid var(--line);border-radius:6px;padding:12px;overflow:auto;font-size:12.5px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
p.note{color:var(--muted);font-size:12.5px;margin:6px 0 0}
footer{margin-top:32px;color:var(--muted);font-size:12px}
`

/**
 * The report as one HTML page: opens offline (no script, no request; a
 * Content-Security-Policy says so), the run's data in a JSON block for tools.
 */
export const renderHtmlReport = (record: RunRecord): string => {
  const { outcome } = record
  const failed = record.judged.reduce(
    (sum, scope) => sum + scope.verdicts.filter((v) => !v.held).length,
    0,
  )
  const total = record.judged.reduce((sum, scope) => sum + scope.verdicts.length, 0)
  const outcomeClass =
    outcome.state === 'completed' ? 'good' : outcome.state === 'interrupted' ? 'warn' : 'bad'
  const restoreClass =
    outcome.restore === undefined
      ? ''
      : outcome.restore.action === 'failed'
        ? '<span class="status bad">restore failed</span>'
        : outcome.restore.action === 'skipped'
          ? '<span class="status warn">not restored by this run</span>'
          : `<span class="status good">${
              outcome.restore.action === 'unchanged'
                ? 'nothing to restore'
                : outcome.restore.action === 'deleted'
                  ? 'restored: deleted (it did not exist)'
                  : `restored: version ${outcome.restore.version}`
            }</span>`
  const heading =
    record.kind === 'experiment' ? `Experiment ${record.title}` : `Probe ${record.title}`
  const data = {
    kind: record.kind,
    title: record.title,
    startedAt: record.startedAt,
    outcome,
    phases: record.phases,
    rows: record.rows,
    judged: record.judged,
    marks: record.marks,
    ...(record.settle === undefined ? {} : { settle: record.settle }),
    samples: record.samples,
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="middy-chaos">
<title>${escapeHtml(`middy-chaos: ${heading}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(heading)}</h1>
${record.description ? `<p class="description">${escapeHtml(record.description)}</p>` : ''}
<span class="status ${outcomeClass}" id="outcome">${escapeHtml(outcome.text)}</span>${restoreClass}${total === 0 ? '' : `<span class="status ${failed === 0 ? 'good' : 'bad'}" id="verdict">${failed === 0 ? `expectations: all ${total} held` : `expectations: ${failed} of ${total} failed`}</span>`}
${facts(record)}
</header>
<section id="chart">
<h2>Timeline</h2>
${renderChart(record)}
${legend(record)}
</section>
<section id="steps">
<h2>Per step</h2>
${summaryTable(record)}
</section>
${expectationsSection(record)}
${eventsSection(record)}
${record.file ? `<section id="experiment-file"><h2>Experiment file <small>${escapeHtml(record.file.path)}</small></h2>${record.waits ? `<p class="description">Run with ${escapeHtml(record.waits)}.</p>` : ''}<pre>${escapeHtml(record.file.text)}</pre></section>` : ''}
<footer>Made by middy-chaos. Every request, phase, event and verdict of this page is in the JSON block <code>#middy-chaos-data</code>.</footer>
<script type="application/json" id="middy-chaos-data">${scriptJson(data)}</script>
</body>
</html>
`
}
