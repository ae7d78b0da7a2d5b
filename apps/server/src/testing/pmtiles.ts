import zlib from 'node:zlib';

/**
 * A minimal valid PMTiles v3 archive, built by hand for tests (the `pmtiles` package only reads):
 * 127-byte header, one uncompressed root directory, JSON metadata, then the tiles. Spec:
 * https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md
 */
export interface TestTile {
  z: number;
  x: number;
  y: number;
  data: Uint8Array;
}

/** Tile id on the Hilbert curve of its zoom level (spec §"Tile IDs"). */
export function zxyToTileId(z: number, x: number, y: number): number {
  let acc = ((1 << z) * (1 << z) - 1) / 3;
  let tx = x;
  let ty = y;
  for (let a = 1 << (z - 1); a > 0; a >>= 1) {
    const rx = tx & a ? 1 : 0;
    const ry = ty & a ? 1 : 0;
    acc += ((3 * rx) ^ ry) * a * a;
    if (ry === 0) {
      if (rx === 1) {
        tx = a - 1 - tx;
        ty = a - 1 - ty;
      }
      [tx, ty] = [ty, tx];
    }
  }
  return acc;
}

function varint(n: number, out: number[]): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export function buildPmtiles(tiles: TestTile[], opts: { tileType?: number; metadata?: Record<string, unknown> } = {}): Buffer {
  const sorted = tiles.map((t) => ({ id: zxyToTileId(t.z, t.x, t.y), ...t })).sort((a, b) => a.id - b.id);
  const dir: number[] = [];
  varint(sorted.length, dir);
  let last = 0;
  for (const t of sorted) {
    varint(t.id - last, dir);
    last = t.id;
  }
  for (let i = 0; i < sorted.length; i++) varint(1, dir); // run lengths
  for (const t of sorted) varint(t.data.length, dir);
  let offset = 0;
  for (const t of sorted) {
    varint(offset + 1, dir); // offsets are stored + 1 (0 means "right after the previous tile")
    offset += t.data.length;
  }
  const root = Buffer.from(dir);
  const metadata = Buffer.from(JSON.stringify(opts.metadata ?? { name: 'test basemap' }));
  const data = Buffer.concat(sorted.map((t) => Buffer.from(t.data)));
  const zooms = sorted.map((t) => t.z);

  const header = Buffer.alloc(127);
  header.write('PMTiles', 0, 'ascii');
  header.writeUInt8(3, 7);
  const rootOffset = 127;
  const metaOffset = rootOffset + root.length;
  const dataOffset = metaOffset + metadata.length;
  const u64 = (v: number, at: number) => header.writeBigUInt64LE(BigInt(v), at);
  u64(rootOffset, 8);
  u64(root.length, 16);
  u64(metaOffset, 24);
  u64(metadata.length, 32);
  u64(dataOffset + data.length, 40); // no leaf directories
  u64(0, 48);
  u64(dataOffset, 56);
  u64(data.length, 64);
  u64(sorted.length, 72);
  u64(sorted.length, 80);
  u64(sorted.length, 88);
  header.writeUInt8(1, 96); // clustered
  header.writeUInt8(1, 97); // internal compression: none
  header.writeUInt8(1, 98); // tile compression: none
  header.writeUInt8(opts.tileType ?? 2, 99); // 2: png
  header.writeUInt8(Math.min(...zooms), 100);
  header.writeUInt8(Math.max(...zooms), 101);
  header.writeInt32LE(-180 * 1e7, 102);
  header.writeInt32LE(-85 * 1e7, 106);
  header.writeInt32LE(180 * 1e7, 110);
  header.writeInt32LE(85 * 1e7, 114);
  header.writeUInt8(0, 118);
  header.writeInt32LE(0, 119);
  header.writeInt32LE(0, 123);
  return Buffer.concat([header, root, metadata, data]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(tb));
  return Buffer.concat([len, tb, crc]);
}

/** A PNG of one colour (RGB), `size` pixels square: a raster tile anyone can recognise on screen. */
export function solidPng(rgb: [number, number, number], size = 256): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: RGB
  const row = Buffer.alloc(1 + size * 3);
  for (let i = 0; i < size; i++) row.set(rgb, 1 + i * 3);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
