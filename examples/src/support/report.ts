/**
 * Printing for the examples: headings, an elapsed-time stamp, checks of what each example
 * demonstrates, and the final machine-readable `RESULT {json}` line that the tests read.
 * A watchdog ends an example that runs past its time limit, so none can hang.
 */

/** How long an example may run before the watchdog fails it, milliseconds. */
export const TIME_LIMIT_MS = 14_000

const started = performance.now()

/** Milliseconds since the example started, as `+1234 ms` (right-aligned). */
export function stamp (): string {
  return `+${Math.round(performance.now() - started)} ms`.padStart(9)
}

/** Waits `ms` milliseconds of real time. */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * Waits until `predicate` holds, checking every few milliseconds: the examples wait for
 * what they expect to happen, never for a fixed time. Rejects with `what` if it has not
 * happened within `timeoutMs`.
 */
export async function until (predicate: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await sleep(5)
  }
}

/**
 * One example's account of itself: headings and lines for people, checks of what it claims,
 * and a final `RESULT {json}` line for machines. The process exits non-zero if a check
 * failed, the example threw, or it ran past {@link TIME_LIMIT_MS}.
 */
export class Report {
  readonly #failures: string[] = []
  #checks = 0

  /**
   * @param title - the example's title
   * @param intro - what it shows, one line each
   */
  constructor (title: string, intro: readonly string[]) {
    console.log(`${title}\n${'='.repeat(title.length)}`)
    for (const line of intro) {
      console.log(line)
    }
    const watchdog = setTimeout(() => {
      console.error(`\nFAILED: the example did not finish within ${TIME_LIMIT_MS / 1000} s`)
      process.exit(1)
    }, TIME_LIMIT_MS)
    // The watchdog never keeps the process alive: an example that stops everything exits.
    watchdog.unref()
  }

  /** Starts a numbered part of the example. */
  section (title: string): void {
    console.log(`\n## ${title}`)
  }

  /** Prints a line of the account. */
  line (text = ''): void {
    console.log(text)
  }

  /**
   * Records a check of something the example demonstrates; a failed one is printed at once
   * and makes the example exit non-zero.
   *
   * @returns the condition, for chaining
   */
  check (condition: boolean, claim: string): boolean {
    this.#checks++
    if (!condition) {
      this.#failures.push(claim)
      console.log(`   !! NOT AS EXPECTED: ${claim}`)
    }
    return condition
  }

  /**
   * Prints the checks' outcome and the `RESULT {json}` line, and sets the exit code.
   *
   * @param result - the figures the example measured, for its test
   */
  finish (result: unknown): void {
    console.log(`\nRESULT ${JSON.stringify(result)}`)
    if (this.#failures.length === 0) {
      console.log(`All ${this.#checks} checks held (${((performance.now() - started) / 1000).toFixed(1)} s).`)
      process.exitCode = 0
    } else {
      console.error(`FAILED: ${this.#failures.length} of ${this.#checks} checks did not hold:\n${this.#failures.map(claim => `  - ${claim}`).join('\n')}`)
      process.exitCode = 1
    }
  }

  /**
   * Runs the example's body; an error fails it with its message (after `cleanup`, which
   * stops whatever is still running so that the process can exit).
   */
  async run (body: () => Promise<void>, cleanup: () => Promise<void>): Promise<void> {
    try {
      await body()
    } catch (error) {
      console.error(`\nFAILED: ${error instanceof Error ? error.message : String(error)}`)
      process.exitCode = 1
    } finally {
      await cleanup()
    }
  }
}
