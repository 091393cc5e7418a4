/**
 * A partition's replication backlog: the encoded OP frames of the last offsets, capped in bytes, so a follower that
 * reconnects within it resumes (Redis's PSYNC) instead of receiving a full snapshot. Pure, no I/O.
 *
 * Every copy keeps one, primaries and followers alike: a follower records the entries it applied, so after it is
 * promoted it can resume the other copies from where they stopped.
 */
export class Backlog {
  private frames: Buffer[] = [];
  private head = 0;
  private bytes = 0;
  /** Offset of the first frame held (frames[head] has offset `first`); `first - 1` is the oldest resumable offset. */
  private first: number;

  /** `offset`: the offset the next appended frame follows (the copy's current offset). */
  constructor(private readonly maxBytes: number, offset: number) {
    this.first = offset + 1;
  }

  /** The highest offset held (or the start offset when empty). */
  get end(): number {
    return this.first + (this.frames.length - this.head) - 1;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Appends the frame of offset `end + 1`, dropping the oldest frames beyond the cap. */
  append(offset: number, frame: Buffer): void {
    if (offset !== this.end + 1) throw new RangeError(`backlog: offset ${offset} after ${this.end}`);
    this.frames.push(frame);
    this.bytes += frame.length;
    while (this.bytes > this.maxBytes && this.frames.length - this.head > 0) {
      this.bytes -= this.frames[this.head]!.length;
      this.frames[this.head] = EMPTY;
      this.head++;
      this.first++;
    }
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /** Empties the backlog; the next frame follows `offset`. */
  reset(offset: number): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    this.first = offset + 1;
  }

  /** True when the frames after `offset` up to `end` are all held (a follower at `offset` can resume). */
  canResumeFrom(offset: number): boolean {
    return offset >= this.first - 1 && offset <= this.end;
  }

  /** The frames after `offset`, oldest first. Call only when canResumeFrom(offset). */
  framesAfter(offset: number): Buffer[] {
    const start = this.head + (offset + 1 - this.first);
    return this.frames.slice(start);
  }
}

const EMPTY = Buffer.alloc(0);
