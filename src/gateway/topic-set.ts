/**
 * A reader's subscriptions, as a Set of topic names. Nearly every reader
 * holds a single topic, and an empty Set alone costs ~200 bytes: the first
 * topic is kept inline and a Set is made only for a second one.
 */
export class TopicSet implements Iterable<string> {
  private one: string | undefined;
  private many: Set<string> | undefined;

  get size(): number {
    if (this.many) return this.many.size;
    return this.one === undefined ? 0 : 1;
  }

  has(topic: string): boolean {
    return this.many ? this.many.has(topic) : this.one === topic;
  }

  add(topic: string): this {
    if (this.many) {
      this.many.add(topic);
    } else if (this.one === undefined) {
      this.one = topic;
    } else if (this.one !== topic) {
      // Insertion order is kept, as a Set keeps it.
      this.many = new Set([this.one, topic]);
      this.one = undefined;
    }
    return this;
  }

  delete(topic: string): boolean {
    if (this.many) return this.many.delete(topic);
    if (this.one !== topic) return false;
    this.one = undefined;
    return true;
  }

  /**
   * The subscriptions as one string, sorted and comma-joined, so that equal
   * lists give equal strings. The single topic is its own list: nothing is
   * made for it, and the audience asks this of every reader every second.
   */
  listKey(): string {
    if (this.many) return [...this.many].sort().join(',');
    return this.one ?? '';
  }

  [Symbol.iterator](): Iterator<string> {
    if (this.many) return this.many.values();
    return (this.one === undefined ? [] : [this.one]).values();
  }
}
