/**
 * The lifecycle of one Seatwise process as readiness sees it. `start` marks the queue started
 * once pg-boss runs, and marks the process stopping on SIGTERM so load balancers drain it first.
 */
export class ProcessState {
  #isQueueStarted = false;
  #isStopping = false;

  get isQueueStarted(): boolean {
    return this.#isQueueStarted;
  }

  get isStopping(): boolean {
    return this.#isStopping;
  }

  markQueueStarted(): void {
    this.#isQueueStarted = true;
  }

  markStopping(): void {
    this.#isStopping = true;
  }
}
