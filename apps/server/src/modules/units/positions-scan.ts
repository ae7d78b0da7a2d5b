import type { Crs } from '@pingan/contracts';
import type { Ping } from './positions.js';
import { unitIds } from './unit-ids.js';

/**
 * A position batch read straight from the request bytes: the points are already track rows (`Ping`),
 * so the route allocates nothing more per point. `unitId` is '' in a point that named no unit (the
 * batch's or the ticket's unit applies; the route fills it in). Its fields have the types of
 * PositionsBody, so the route treats it as a validated body.
 */
export class ScannedPositions {
  unitId: string | undefined = undefined;
  crs: Crs = 'WGS84';
  points: Ping[] = [];
}

/**
 * The fast path of POST /api/units/positions (JSON.parse, the body check and the object per point were
 * a third of the ingest thread's time): one pass over the bytes of an ordinary batch —
 * `{"unitId"?, "crs"?, "points": [{"unitId"?, "t", "lon", "lat", "accuracy"?, "speed"?, "heading"?}, …]}`
 * with any JSON whitespace and key order — that yields the values JSON.parse and the zod schema would.
 * It answers null for anything else (another key, an escape, an exponent it cannot read exactly, a
 * value the schema rejects, bad JSON), and then the route parses the body the ordinary way, so zod
 * stays the schema of record and words every error. A point's unit is looked up by the id's text in the
 * registry of unit ids (unit-ids.ts): a registered unit's number goes with the point, so the ingest path
 * finds the unit by index, and its id is one string in every batch; any other id is read as a new string.
 */
export function scanPositionsBody(body: Buffer): ScannedPositions | null {
  scanner.b = body;
  scanner.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  scanner.i = 0;
  try {
    return scanner.body();
  } catch (err) {
    if (err === SCAN_FAILED) return null;
    throw err;
  } finally {
    scanner.b = EMPTY;
    scanner.view = EMPTY_VIEW;
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
/** 10^0 … 10^22: exactly representable, so m / 10^f (m < 2^53) is the correctly rounded value (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const TWO_53 = 9_007_199_254_740_992;
const CRS_NAMES: readonly Crs[] = ['WGS84', 'GCJ02', 'BD09'];

// The schema's keys and their codes.
const K_UNIT = 1, K_CRS = 2, K_POINTS = 3, K_T = 4, K_LON = 5, K_LAT = 6, K_ACCURACY = 7, K_SPEED = 8, K_HEADING = 9;
const bytesOf = (key: string) => Uint8Array.from(Buffer.from(key, 'latin1'));
const KEY_UNIT = bytesOf('unitId'), KEY_CRS = bytesOf('crs'), KEY_POINTS = bytesOf('points'), KEY_T = bytesOf('t');
const KEY_LON = bytesOf('lon'), KEY_LAT = bytesOf('lat'), KEY_ACCURACY = bytesOf('accuracy'), KEY_SPEED = bytesOf('speed');
const KEY_HEADING = bytesOf('heading');
/** Value of a lower-case hex digit by byte, -1 for any other byte (upper case included: see uuid()). */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[97 + c] = 10 + c;

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Set by hex() when a digit is not lower-case hex (checked and cleared by the caller). */
let bad = false;
/** `n` (≤ 8) hex digits from b[at] as an int32. */
function hex(b: Buffer, at: number, n: number): number {
  let w = 0;
  for (let k = 0; k < n; k++) {
    const v = HEX[b[at + k]!]!;
    if (v < 0) bad = true;
    w = (w << 4) | v;
  }
  return w;
}

class Scanner {
  b: Buffer = EMPTY;
  view: DataView = EMPTY_VIEW;
  i = 0;
  /** The registry number of the id uuid() read last (-1: not registered). */
  unitNo = -1;

  private fail(): never {
    throw SCAN_FAILED;
  }

  /** Skips JSON whitespace; the byte there (-1 at the end). */
  private ws(): number {
    const b = this.b;
    let i = this.i;
    while (i < b.length) {
      const c = b[i]!;
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
    return i < b.length ? b[i]! : -1;
  }

  private expect(c: number): void {
    if (this.ws() !== c) this.fail();
    this.i++;
  }

  /** A key and its colon; any key but the schema's fails. */
  private key(): number {
    this.expect(34);
    const b = this.b;
    const i = this.i;
    // The schema's keys differ in their first letter, except lon / lat.
    let key: Uint8Array;
    let code: number;
    switch (b[i]) {
      case 116: key = KEY_T; code = K_T; break;
      case 108: if (b[i + 1] === 111) { key = KEY_LON; code = K_LON; } else { key = KEY_LAT; code = K_LAT; } break;
      case 117: key = KEY_UNIT; code = K_UNIT; break;
      case 97: key = KEY_ACCURACY; code = K_ACCURACY; break;
      case 115: key = KEY_SPEED; code = K_SPEED; break;
      case 104: key = KEY_HEADING; code = K_HEADING; break;
      case 99: key = KEY_CRS; code = K_CRS; break;
      case 112: key = KEY_POINTS; code = K_POINTS; break;
      default: this.fail();
    }
    // The key's bytes and its closing quote (an escape or another key fails here).
    const n = key.length;
    if (i + n >= b.length) this.fail();
    for (let x = 1; x < n; x++) if (b[i + x] !== key[x]) this.fail();
    if (b[i + n] !== 34) this.fail();
    this.i = i + n + 1;
    this.expect(58);
    return code;
  }

  /** A JSON number, exactly as JSON.parse reads it; only finite values. */
  private number(): number {
    const b = this.b;
    let i = this.i;
    const start = i;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    let c = i < b.length ? b[i]! : -1;
    if (!isDigit(c)) this.fail();
    let m = 0;
    let frac = 0;
    if (c === 48) {
      c = ++i < b.length ? b[i]! : -1;
      if (isDigit(c)) this.fail(); // a leading zero is not JSON
    } else {
      while (isDigit(c)) {
        m = m * 10 + (c - 48);
        c = ++i < b.length ? b[i]! : -1;
      }
    }
    if (c === 46) {
      c = ++i < b.length ? b[i]! : -1;
      if (!isDigit(c)) this.fail();
      while (isDigit(c)) {
        m = m * 10 + (c - 48);
        frac++;
        c = ++i < b.length ? b[i]! : -1;
      }
    }
    let exact = true;
    if (c === 101 || c === 69) {
      exact = false;
      c = ++i < b.length ? b[i]! : -1;
      if (c === 43 || c === 45) c = ++i < b.length ? b[i]! : -1;
      if (!isDigit(c)) this.fail();
      while (isDigit(c)) c = ++i < b.length ? b[i]! : -1;
    }
    this.i = i;
    let v: number;
    // Every partial m was ≤ the last one, so m < 2^53 means they were all exact.
    if (exact && m < TWO_53 && frac <= 22) v = frac === 0 ? m : m / POW10[frac]!;
    else return this.finite(Number(b.toString('latin1', start, i)));
    return neg ? -v : v;
  }

  private finite(v: number): number {
    if (!Number.isFinite(v)) this.fail();
    return v;
  }

  private isNull(): boolean {
    const b = this.b;
    const i = this.i;
    if (b[i] === 110 && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108) {
      this.i = i + 4;
      return true;
    }
    return false;
  }

  /** null, or a number ≥ 0 (accuracy, speed). */
  private nonNegativeOrNull(): number | null {
    if (this.ws() === 110 && this.isNull()) return null;
    const v = this.number();
    if (!(v >= 0)) this.fail();
    return v;
  }

  /** A plain ASCII string without escapes (the JSON.parse path takes the rest). */
  private plainString(maxLength: number): string {
    this.expect(34);
    const b = this.b;
    const start = this.i;
    let end = start;
    while (end < b.length) {
      const c = b[end]!;
      if (c === 34) break;
      if (c === 92 || c < 32 || c > 126) this.fail();
      end++;
    }
    if (end >= b.length || end - start > maxLength) this.fail();
    this.i = end + 1;
    return b.toString('latin1', start, end);
  }

  /**
   * A unit id: lower-case, version 1-8 and variant 10xx (or nil / max), as zod's uuid accepts. A
   * registered unit's id is its one string, and its number is left in `unitNo` (else -1).
   */
  private uuid(): string {
    this.expect(34);
    const b = this.b;
    const start = this.i;
    if (start + 37 > b.length || b[start + 36] !== 34) this.fail();
    // A registered unit's id is a valid one (unit-ids.ts registers only those): found by its text.
    const known = unitIds.findText(this.view, start);
    if (known >= 0) {
      this.i = start + 37;
      this.unitNo = known;
      return unitIds.idOf(known);
    }
    // xxxxxxxx-xxxx-Mxxx-Nxxx-xxxxxxxxxxxx as four 32-bit words (hex() flags a digit that is not lower-case hex).
    if (b[start + 8] !== 45 || b[start + 13] !== 45 || b[start + 18] !== 45 || b[start + 23] !== 45) this.fail();
    const w0 = hex(b, start, 8);
    const w1 = (hex(b, start + 9, 4) << 16) | hex(b, start + 14, 4);
    const w2 = (hex(b, start + 19, 4) << 16) | hex(b, start + 24, 4);
    const w3 = hex(b, start + 28, 8);
    if (bad) {
      bad = false;
      this.fail();
    }
    const version = b[start + 14]!;
    const variant = b[start + 19]!;
    const ordinary = version >= 49 && version <= 56 && (variant === 56 || variant === 57 || variant === 97 || variant === 98);
    const nil = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0;
    const max = w0 === -1 && w1 === -1 && w2 === -1 && w3 === -1;
    if (!ordinary && !nil && !max) this.fail();
    this.i = start + 37;
    this.unitNo = -1;
    return b.toString('latin1', start, start + 36);
  }

  body(): ScannedPositions {
    const out = new ScannedPositions();
    let hasPoints = false;
    this.expect(123);
    if (this.ws() === 125) this.fail(); // {} has no points
    for (;;) {
      const k = this.key();
      this.ws();
      if (k === K_UNIT) out.unitId = this.uuid();
      else if (k === K_CRS) {
        const name = this.plainString(8);
        const crs = CRS_NAMES.find((c) => c === name);
        if (!crs) this.fail();
        out.crs = crs;
      } else if (k === K_POINTS) {
        out.points = this.points();
        hasPoints = true;
      } else this.fail();
      const c = this.ws();
      this.i++;
      if (c === 125) break;
      if (c !== 44) this.fail();
    }
    if (!hasPoints || this.ws() !== -1) this.fail();
    return out;
  }

  private points(): Ping[] {
    const out: Ping[] = [];
    this.expect(91);
    if (this.ws() === 93) this.fail(); // at least one point
    for (;;) {
      if (out.length === 5000) this.fail(); // at most 5,000 (zod words the error)
      out.push(this.point());
      const c = this.ws();
      this.i++;
      if (c === 93) return out;
      if (c !== 44) this.fail();
    }
  }

  private point(): Ping {
    const p: Ping = { unitId: '', unitNo: -1, t: 0, lon: 0, lat: 0, accuracy: null, speed: null, heading: null };
    let seen = 0;
    this.expect(123);
    if (this.ws() === 125) this.fail(); // t, lon and lat are required
    for (;;) {
      const k = this.key();
      const c = this.ws();
      switch (k) {
        case K_T:
          p.t = c === 34 ? Date.parse(this.plainString(40)) : this.number();
          seen |= 1;
          break;
        case K_LON:
          p.lon = this.number();
          seen |= 2;
          break;
        case K_LAT:
          p.lat = this.number();
          seen |= 4;
          break;
        case K_ACCURACY:
          p.accuracy = this.nonNegativeOrNull();
          break;
        case K_SPEED:
          p.speed = this.nonNegativeOrNull();
          break;
        case K_HEADING:
          p.heading = c === 110 && this.isNull() ? null : this.number();
          break;
        case K_UNIT:
          p.unitId = this.uuid();
          p.unitNo = this.unitNo;
          break;
        default:
          this.fail();
      }
      const d = this.ws();
      this.i++;
      if (d === 125) break;
      if (d !== 44) this.fail();
    }
    if (seen !== 7) this.fail();
    return p;
  }
}

/** Thrown inside the scanner only; never leaves it. */
const SCAN_FAILED = new Error('not an ordinary position batch');
const scanner = new Scanner();
