/**
 * The unit ids this process knows, each with a number for the life of the process. The body scanner
 * finds a point's unit here by the id's 128 bits (no string made or hashed), the ingest path finds the
 * unit's record by that number (an array index, not a Map lookup), and the track COPY copies the id's
 * 16 bytes from here instead of reading 36 characters. Only ids of units loaded from the unit table
 * are registered, so a flood of made-up ids adds nothing here.
 *
 * One registry per process (numbers are the same for every app in it); a number always names the same id.
 */
export class UnitIds {
  /** Open addressing, at most half full: per slot the id's four words and its number + 1 (0 = empty). */
  private slots = new Int32Array(5 * 1024);
  private mask = 1023;
  /** By number: the id's four big-endian 32-bit words. */
  private words = new Int32Array(4 * 512);
  private strings: string[] = [];

  get size(): number {
    return this.strings.length;
  }

  /** Unit number n's id is words [4n, 4n + 4) (read by encodeTrackCopy). */
  get table(): Int32Array {
    return this.words;
  }

  /** The id (lower-case, as the unit table writes it) of a number. */
  idOf(no: number): string {
    return this.strings[no]!;
  }

  /** The number of a registered id given as four words, or -1. */
  find(w0: number, w1: number, w2: number, w3: number): number {
    const slots = this.slots;
    let h = slotOf(w0, w1, w2, w3, this.mask);
    for (;;) {
      const o = 5 * h;
      const tag = slots[o + 4]!;
      if (tag === 0) return -1;
      if (slots[o] === w0 && slots[o + 1] === w1 && slots[o + 2] === w2 && slots[o + 3] === w3) return tag - 1;
      h = (h + 1) & this.mask;
    }
  }

  /** The number of this id (a uuid), registering it when new. */
  register(id: string): number {
    const m = UUID.exec(id);
    if (!m) throw new Error(`not a uuid: ${id}`);
    const hex = m.slice(1).join('');
    const w = [0, 1, 2, 3].map((k) => Number.parseInt(hex.slice(8 * k, 8 * k + 8), 16) | 0) as [number, number, number, number];
    const known = this.find(...w);
    if (known >= 0) return known;
    const no = this.strings.length;
    this.strings.push(hex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5').toLowerCase());
    if (this.words.length < 4 * (no + 1)) this.words = grow(this.words, 2 * this.words.length);
    this.words.set(w, 4 * no);
    if (2 * this.strings.length > this.mask + 1) this.rehash(2 * (this.mask + 1));
    else this.place(w[0], w[1], w[2], w[3], no);
    return no;
  }

  private place(w0: number, w1: number, w2: number, w3: number, no: number): void {
    let h = slotOf(w0, w1, w2, w3, this.mask);
    while (this.slots[5 * h + 4] !== 0) h = (h + 1) & this.mask;
    this.slots.set([w0, w1, w2, w3, no + 1], 5 * h);
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(5 * slotCount);
    this.mask = slotCount - 1;
    const w = this.words;
    for (let no = 0; no < this.strings.length; no++) this.place(w[4 * no]!, w[4 * no + 1]!, w[4 * no + 2]!, w[4 * no + 3]!, no);
  }
}

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

function slotOf(w0: number, w1: number, w2: number, w3: number, mask: number): number {
  const h = Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca77) ^ Math.imul(w3, 0xc2b2ae3d), 0x27d4eb2f);
  return (h ^ (h >>> 15)) & mask;
}

function grow(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

/** This process's registry. */
export const unitIds = new UnitIds();
