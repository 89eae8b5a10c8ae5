/** A bounded FIFO: beyond the limit the oldest item is dropped and counted. */
export class BoundedQueue<T> {
  private items: T[] = [];
  dropped = 0;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    while (this.items.length > this.limit) {
      this.items.shift();
      this.dropped++;
    }
  }

  /** The first n items, without removing them. */
  peek(n: number): T[] {
    return this.items.slice(0, n);
  }

  /** Removes one item by identity (it may already have been dropped). */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}
