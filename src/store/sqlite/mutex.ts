/**
 * A FIFO async mutex. better-sqlite3 has one synchronous connection; our
 * repository interface is async, so a transaction spans awaits. The mutex makes
 * sure that while one caller's transaction is open (and awaiting), nobody else's
 * statements run on the connection and silently join it.
 */
export class AsyncMutex {
  #locked = false;
  /** Invariant: non-empty only while #locked. */
  readonly #waiters: Array<() => void> = [];

  get locked(): boolean {
    return this.#locked;
  }

  /** Resolves once the caller holds the lock; the caller must call `release()`. */
  acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Like `acquire`, but gives up after `ms`: resolves true once the lock is held,
   * false if it was not granted in time (the caller then holds nothing).
   */
  acquireWithin(ms: number): Promise<boolean> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          resolve(false);
        }
      }, ms);
      timer.unref();
      this.#waiters.push(waiter);
    });
  }

  /** Hands the lock straight to the next waiter (FIFO), or unlocks. */
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#locked = false;
  }
}
