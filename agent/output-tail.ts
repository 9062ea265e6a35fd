/**
 * A bounded tail of a job's combined output (stdout and stderr interleaved in arrival order).
 *
 * A job may print gigabytes; the platform keeps only the last bytes as `result.outputTail`, so memory must stay
 * bounded whatever the volume: bytes go into one ring buffer that never exceeds `capacity`. The buffer starts small
 * and grows to `capacity` only if the output needs it, because most jobs print little and an agent runs many.
 *
 * UTF-8 is handled at both places a character can be cut:
 *  - at the start of the tail, where older bytes were dropped: leading continuation bytes are skipped on read;
 *  - between pipe reads, where one stream's character can be split across two chunks while the other stream
 *    writes in between: each source holds back an incomplete trailing sequence (at most 3 bytes) until its next
 *    chunk, so interleaving never lands inside a character.
 */
export const DEFAULT_OUTPUT_TAIL_BYTES = 64 * 1024;

const INITIAL_BYTES = 4 * 1024;

export class OutputTail {
  readonly capacity: number;
  private buf: Buffer = Buffer.alloc(0);
  /** Index of the oldest kept byte; stays 0 until the buffer is full and starts to wrap. */
  private start = 0;
  private length = 0;
  private total = 0;
  private readonly sources: OutputSource[] = [];

  constructor(capacity = DEFAULT_OUTPUT_TAIL_BYTES) {
    if (!Number.isInteger(capacity) || capacity < 4) throw new RangeError(`capacity must be an integer >= 4, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Every byte written so far, including the ones dropped from the tail. */
  get totalBytes(): number {
    return this.total;
  }

  /** Bytes held in memory right now (never more than `capacity`). */
  get allocatedBytes(): number {
    return this.buf.length;
  }

  get truncated(): boolean {
    return this.total > this.length;
  }

  /** A writer for one stream (stdout or stderr) that never splits a UTF-8 character with another stream's bytes. */
  source(): OutputSource {
    const source = new OutputSource(this);
    this.sources.push(source);
    return source;
  }

  /** Appends raw bytes. Prefer `source()` for process streams. */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    this.total += n;
    const cap = this.capacity;
    if (n >= cap) {
      // The chunk alone fills the tail: keep its last `cap` bytes and forget everything before.
      this.ensureAllocated(cap);
      this.buf.set(chunk.subarray(n - cap), 0);
      this.start = 0;
      this.length = cap;
      return;
    }
    if (this.buf.length < cap && this.length + n > this.buf.length) this.ensureAllocated(this.length + n);
    const size = this.buf.length;
    const write = (this.start + this.length) % size;
    const first = Math.min(n, size - write);
    this.buf.set(first === n ? chunk : chunk.subarray(0, first), write);
    if (first < n) this.buf.set(chunk.subarray(first), 0);
    const kept = this.length + n;
    if (kept > size) {
      this.start = (this.start + kept - size) % size;
      this.length = size;
    } else {
      this.length = kept;
    }
  }

  /** Writes out what the sources still hold back (an incomplete character at the very end of the output). */
  flush(): void {
    for (const source of this.sources) source.flush();
  }

  toBuffer(): Buffer {
    const end = this.start + this.length;
    const bytes =
      end <= this.buf.length
        ? this.buf.subarray(this.start, end)
        : Buffer.concat([this.buf.subarray(this.start), this.buf.subarray(0, end - this.buf.length)]);
    if (!this.truncated) return bytes;
    // The cut may have landed inside a character: skip its continuation bytes (at most 3 in valid UTF-8).
    let skip = 0;
    while (skip < 3 && skip < bytes.length && isContinuation(bytes[skip]!)) skip++;
    return bytes.subarray(skip);
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }

  /** Grows (never beyond capacity) while the data is still linear, i.e. before the ring has wrapped. */
  private ensureAllocated(needed: number): void {
    if (this.buf.length >= needed) return;
    const size = Math.min(this.capacity, Math.max(needed, this.buf.length * 2, INITIAL_BYTES));
    const grown = Buffer.allocUnsafe(size);
    if (this.length > 0) this.buf.copy(grown, 0, this.start, this.start + this.length);
    this.buf = grown;
    this.start = 0;
  }
}

/** One stream's writer into a shared tail. */
export class OutputSource {
  private pending: Buffer | undefined;

  constructor(private readonly tail: OutputTail) {}

  write(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const cut = completeLength(data);
    if (cut < data.length) {
      // Copy: the held bytes are tiny, and a subarray would pin the whole chunk in memory.
      this.pending = Buffer.from(data.subarray(cut));
    }
    this.tail.append(cut === data.length ? data : data.subarray(0, cut));
  }

  flush(): void {
    if (!this.pending) return;
    this.tail.append(this.pending);
    this.pending = undefined;
  }
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** How many leading bytes of `data` end on a character boundary (an incomplete final sequence is excluded). */
function completeLength(data: Buffer): number {
  const n = data.length;
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const byte = data[i]!;
    if (isContinuation(byte)) continue;
    const expected = byte >= 0xf0 && byte <= 0xf4 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 && byte < 0xe0 ? 2 : 1;
    // ASCII, an invalid byte, or a complete sequence: nothing to hold back. Otherwise hold from the lead byte.
    return expected > 1 && expected <= 4 && n - i < expected && byte < 0xf5 ? i : n;
  }
  return n;
}
