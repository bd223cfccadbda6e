/** Where a {@link Terminal} writes: `process.stdout`, or anything with `write` (tests). */
export interface TerminalStream {
  write(text: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
  /** A stream that reports write errors as events (`process.stdout`): the terminal listens. */
  on?(event: 'error', listener: (error: Error) => void): unknown
}

/**
 * Writes lines to the terminal and, on a TTY, keeps one live status line
 * (current step, state, elapsed) at the bottom, redrawn under new lines.
 *
 * Never throws: a write that fails (a pipe closed by its reader, as `| head`
 * does; a terminal gone; a stream that throws) aborts {@link Terminal.failed}
 * and everything later for that stream is dropped, so that a command restoring
 * what it changed is never stopped by its output.
 */
export class Terminal {
  readonly #out: TerminalStream
  readonly #err: TerminalStream
  readonly #live: boolean
  readonly #failure = new AbortController()
  readonly #broken = new Set<TerminalStream>()
  #status: (() => string) | undefined
  #timer: NodeJS.Timeout | undefined
  #shown = false

  public constructor(out: TerminalStream = process.stdout, err: TerminalStream = process.stderr) {
    this.#out = out
    this.#err = err
    this.#live = Boolean(out.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI
    for (const [stream, name] of [
      [out, 'stdout'],
      [err, 'stderr'],
    ] as const)
      stream.on?.('error', (error) => this.#fail(stream, name, error))
  }

  /**
   * Aborted at the first write that failed, on either stream; its `reason`
   * says which and why (`write EPIPE on stdout`).
   */
  public get failed(): AbortSignal {
    return this.#failure.signal
  }

  #fail(stream: TerminalStream, name: string, error: unknown): void {
    this.#broken.add(stream)
    if (stream === this.#out) this.status(undefined)
    const message = error instanceof Error ? error.message : String(error)
    if (!this.#failure.signal.aborted) this.#failure.abort(`${message} on ${name}`)
  }

  #write(stream: TerminalStream, text: string): void {
    if (this.#broken.has(stream)) return
    try {
      stream.write(text)
    } catch (error) {
      this.#fail(stream, stream === this.#out ? 'stdout' : 'stderr', error)
    }
  }

  #clear(): void {
    if (this.#shown) {
      this.#write(this.#out, '\r\u001b[2K')
      this.#shown = false
    }
  }

  #draw(): void {
    if (!this.#live || !this.#status) return
    const text = this.#status()
    const width = (this.#out.columns ?? 80) - 1
    this.#write(this.#out, `\r\u001b[2K\u001b[2m${text.slice(0, width)}\u001b[22m`)
    this.#shown = true
  }

  public line(text: string): void {
    this.#clear()
    this.#write(this.#out, `${text}\n`)
    this.#draw()
  }

  public error(text: string): void {
    this.#clear()
    this.#write(this.#err, `${text}\n`)
    this.#draw()
  }

  /** Shows a live status line (TTY only), refreshed every 200 ms; `undefined` removes it. */
  public status(render: (() => string) | undefined): void {
    this.#status = render
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (!this.#live || this.#broken.has(this.#out)) return
    if (render) {
      this.#timer = setInterval(() => this.#draw(), 200)
      this.#timer.unref()
      this.#draw()
    } else this.#clear()
  }
}
