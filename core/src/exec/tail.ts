/** Keeps the last bytes a step printed, for error messages, without holding all of its output. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit = 4096) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  /** The last lines, at most `lines` of them. */
  text(lines = 20): string {
    const all = Buffer.concat(this.chunks).subarray(-this.limit).toString('utf8');
    return all.trimEnd().split('\n').slice(-lines).join('\n');
  }
}
