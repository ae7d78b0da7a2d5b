/**
 * The unit ids this process knows, each with a number for the life of the process. The body scanner
 * finds a point's unit here by the id's 36 bytes of text (nine 32-bit reads: no hex decoded, no string
 * made or hashed), the ingest path finds the unit's record by that number (an array index, not a Map
 * lookup), and the track COPY copies the id's 16 binary bytes from here instead of reading 36
 * characters. Only ids of units loaded from the unit table are registered, so a flood of made-up ids
 * adds nothing here.
 *
 * One registry per process (numbers are the same for every app in it); a number always names the same id.
 */
export class UnitIds {
  /** Open addressing, at most half full: per slot a hash of the id's text and its number + 1 (0 = empty). */
  private slots = new Int32Array(2 * 1024);
  private mask = 1023;
  /** By number: the id's text as nine little-endian 32-bit words (what findText reads). */
  private text = new Int32Array(9 * 512);
  /** By number: the id's sixteen bytes as four big-endian 32-bit words (what the COPY writes). */
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

  /** The number of the registered id whose 36 characters start at `at` in `view`, or -1. */
  findText(view: DataView, at: number): number {
    const a0 = view.getInt32(at, true), a1 = view.getInt32(at + 4, true), a2 = view.getInt32(at + 8, true);
    const a3 = view.getInt32(at + 12, true), a4 = view.getInt32(at + 16, true), a5 = view.getInt32(at + 20, true);
    const a6 = view.getInt32(at + 24, true), a7 = view.getInt32(at + 28, true), a8 = view.getInt32(at + 32, true);
    const hash = hashOf(a0, a1, a2, a3, a4, a5, a6, a7, a8);
    const slots = this.slots;
    const mask = this.mask;
    const text = this.text;
    for (let h = hash & mask; ; h = (h + 1) & mask) {
      const tag = slots[2 * h + 1]!;
      if (tag === 0) return -1;
      if (slots[2 * h] !== hash) continue;
      const o = 9 * (tag - 1);
      if (text[o] === a0 && text[o + 1] === a1 && text[o + 2] === a2 && text[o + 3] === a3 && text[o + 4] === a4
        && text[o + 5] === a5 && text[o + 6] === a6 && text[o + 7] === a7 && text[o + 8] === a8) return tag - 1;
    }
  }

  /**
   * The number of this id, registering it when new; -1 for an id the position body's schema would
   * not take (not an RFC 9562 uuid), which therefore never reaches the scanner's fast path.
   */
  register(id: string): number {
    const lower = id.toLowerCase();
    if (!SCHEMA_UUID.test(lower)) return -1;
    const bytes = Buffer.from(lower, 'latin1');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const known = this.findText(view, 0);
    if (known >= 0) return known;
    const no = this.strings.length;
    this.strings.push(lower);
    if (this.words.length < 4 * (no + 1)) {
      this.words = grow(this.words, 2 * this.words.length);
      this.text = grow(this.text, 2 * this.text.length);
    }
    for (let k = 0; k < 9; k++) this.text[9 * no + k] = view.getInt32(4 * k, true);
    const hex = lower.replace(/-/g, '');
    for (let k = 0; k < 4; k++) this.words[4 * no + k] = Number.parseInt(hex.slice(8 * k, 8 * k + 8), 16) | 0;
    if (2 * this.strings.length > this.mask + 1) this.rehash(2 * (this.mask + 1));
    else this.place(no);
    return no;
  }

  private place(no: number): void {
    const t = this.text;
    const o = 9 * no;
    const hash = hashOf(t[o]!, t[o + 1]!, t[o + 2]!, t[o + 3]!, t[o + 4]!, t[o + 5]!, t[o + 6]!, t[o + 7]!, t[o + 8]!);
    let h = hash & this.mask;
    while (this.slots[2 * h + 1] !== 0) h = (h + 1) & this.mask;
    this.slots[2 * h] = hash;
    this.slots[2 * h + 1] = no + 1;
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(2 * slotCount);
    this.mask = slotCount - 1;
    for (let no = 0; no < this.strings.length; no++) this.place(no);
  }
}

/** What zod's uuid() takes (lower case here): version 1-8 and variant 10xx, or nil / max. */
const SCHEMA_UUID = /^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/;

function hashOf(a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number, a8: number): number {
  let h = Math.imul(a0 ^ Math.imul(a1, 0x9e3779b1) ^ Math.imul(a2, 0x85ebca77), 0x27d4eb2f);
  h = Math.imul(h ^ a3 ^ Math.imul(a4, 0xc2b2ae3d) ^ Math.imul(a5, 0x165667b1), 0x9e3779b1);
  h = Math.imul(h ^ a6 ^ Math.imul(a7, 0x85ebca77) ^ Math.imul(a8, 0x27d4eb2f), 0xc2b2ae3d);
  return h ^ (h >>> 15);
}

function grow(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

/** This process's registry. */
export const unitIds = new UnitIds();
