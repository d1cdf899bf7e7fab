/**
 * A small seeded pseudo-random generator (mulberry32). The simulator needs the same account for the
 * same seed on every machine and Node version, which `Math.random` cannot give.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Returns a float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Returns an integer in [min, max], both inclusive. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick needs at least one item');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks an item with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [item, weight] of items) {
      point -= weight;
      if (point < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('Random.weighted needs at least one item');
    return last[0];
  }

  /** Returns a PagerDuty-style object id: `P` followed by six characters of [0-9A-Z]. */
  objectId(): string {
    return `P${this.characters(6)}`;
  }

  /** Returns a log entry id: fourteen characters of [0-9A-Z], as PagerDuty's `Q02JTSNZWHSEKV`. */
  logEntryId(): string {
    return this.characters(14);
  }

  private characters(length: number): string {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    let result = '';
    for (let index = 0; index < length; index += 1) result += alphabet[Math.floor(this.next() * alphabet.length)];
    return result;
  }
}
