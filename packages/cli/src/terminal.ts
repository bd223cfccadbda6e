/** Where a {@link Terminal} writes: `process.stdout`, or anything with `write` (tests). */
export interface TerminalStream {
  write(text: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

/**
 * Writes lines to the terminal and, on a TTY, keeps one live status line
 * (current step, state, elapsed) at the bottom, redrawn under new lines.
 */
export class Terminal {
  readonly #out: TerminalStream
  readonly #err: TerminalStream
  readonly #live: boolean
  #status: (() => string) | undefined
  #timer: NodeJS.Timeout | undefined
  #shown = false

  public constructor(out: TerminalStream = process.stdout, err: TerminalStream = process.stderr) {
    this.#out = out
    this.#err = err
    this.#live = Boolean(out.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI
  }

  #clear(): void {
    if (this.#shown) {
      this.#out.write('\r\u001b[2K')
      this.#shown = false
    }
  }

  #draw(): void {
    if (!this.#live || !this.#status) return
    const text = this.#status()
    const width = (this.#out.columns ?? 80) - 1
    this.#out.write(`\r\u001b[2K\u001b[2m${text.slice(0, width)}\u001b[22m`)
    this.#shown = true
  }

  public line(text: string): void {
    this.#clear()
    this.#out.write(`${text}\n`)
    this.#draw()
  }

  public error(text: string): void {
    this.#clear()
    this.#err.write(`${text}\n`)
    this.#draw()
  }

  /** Shows a live status line (TTY only), refreshed every 200 ms; `undefined` removes it. */
  public status(render: (() => string) | undefined): void {
    this.#status = render
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (!this.#live) return
    if (render) {
      this.#timer = setInterval(() => this.#draw(), 200)
      this.#timer.unref()
      this.#draw()
    } else this.#clear()
  }
}
