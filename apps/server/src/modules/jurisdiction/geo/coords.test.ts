import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convert, fromWgs84, toWgs84, type CoordSystem } from './coords.js';

const points: [number, number][] = [
  [118.407, 37.053], // 广饶
  [116.397, 39.909], // 北京
  [121.4737, 31.2304], // 上海
  [113.2644, 23.1291], // 广州
];
const systems: CoordSystem[] = ['WGS84', 'GCJ02', 'BD09'];

test('round trips WGS-84 → X → WGS-84 within 1e-5', () => {
  for (const [lon, lat] of points) {
    for (const s of systems) {
      const [x, y] = fromWgs84(lon, lat, s);
      const [lon2, lat2] = toWgs84(x, y, s);
      assert.ok(Math.abs(lon2 - lon) < 1e-5 && Math.abs(lat2 - lat) < 1e-5, `${s} ${lon},${lat} → ${lon2},${lat2}`);
    }
  }
});

test('all pairs round trip and the offsets are real', () => {
  for (const [lon, lat] of points) {
    for (const a of systems) {
      for (const b of systems) {
        const [x, y] = convert(lon, lat, a, b);
        const [x2, y2] = convert(x, y, b, a);
        assert.ok(Math.abs(x2 - lon) < 1e-5 && Math.abs(y2 - lat) < 1e-5, `${a}→${b}→${a}`);
      }
    }
    const [gx, gy] = fromWgs84(lon, lat, 'GCJ02');
    const offset = Math.hypot(gx - lon, gy - lat);
    assert.ok(offset > 1e-4 && offset < 1e-2, `GCJ-02 offset ${offset}`); // a few hundred metres
    const [bx, by] = fromWgs84(lon, lat, 'BD09');
    assert.ok(Math.hypot(bx - gx, by - gy) > 1e-3, 'BD-09 is offset from GCJ-02');
  }
});

test('rejects non-finite input', () => {
  assert.throws(() => toWgs84(Number.NaN, 37, 'GCJ02'), RangeError);
});
