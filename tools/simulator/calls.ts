import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import bbox from '@turf/bbox';
import type { MultiPolygon } from 'geojson';
import { buildDemoCounty, type DemoNode } from '../demo-county/county.js';
import { createPeople } from '../demo-county/names.js';
import { createRng, type Rng } from '../demo-county/prng.js';

/** One generated call: what a caller says, where, when (seconds into the simulated day). */
export interface SimCall {
  atSecond: number;
  category: string;
  priority: number;
  content: string;
  callerName: string;
  callerPhone: string;
  lon: number;
  lat: number;
  gridCode: string;
  /** Minutes a unit stays on scene. */
  onSceneMinutes: number;
  nonPolice: boolean;
}

interface Kind {
  category: string;
  weight: number;
  priority: number;
  minutes: [number, number];
  texts: ((v: Vars) => string)[];
  nonPolice?: boolean;
}
interface Vars {
  place: string;
  rng: Rng;
  n: (lo: number, hi: number) => number;
  pick: <T>(items: readonly T[]) => T;
}

const STREETS = ['东街', '西街', '南门口', '北头', '村委会门口', '小学附近', '集市', '路口', '加油站旁', '桥头', '卫生室对面', '超市门前'];
const VEHICLES = ['电动车', '三轮车', '小轿车', '面包车', '货车', '摩托车'];
const ANIMALS = ['羊', '鸡', '鸭', '牛'];

/** The mix of calls a rural county's 110 hears (seeds 000, 003): thefts, disputes, traffic, help. */
const KINDS: Kind[] = [
  {
    category: 'criminal.theft', weight: 14, priority: 3, minutes: [20, 50],
    texts: [
      (v) => `${v.place}${v.pick(STREETS)}，我的电动车电瓶昨晚被人偷了，两块电瓶`,
      (v) => `在${v.place}赶集的时候手机被偷了，是${v.pick(['华为', '苹果', 'vivo', 'OPPO'])}手机`,
      (v) => `${v.place}家里养的${v.n(2, 9)}只${v.pick(ANIMALS)}夜里被偷了，圈门被撬开`,
      (v) => `${v.place}${v.pick(STREETS)}停的${v.pick(VEHICLES)}不见了，怀疑被盗`,
    ],
  },
  {
    category: 'dispute.neighbour', weight: 12, priority: 3, minutes: [30, 90],
    texts: [
      (v) => `${v.place}两家因为宅基地边界吵起来了，快要动手`,
      (v) => `${v.place}邻居家的${v.pick(['树', '柴火垛', '三轮车'])}占了我家门口，说了不听，吵起来了`,
      (v) => `${v.place}楼上漏水到我家，找他理论他还骂人`,
    ],
  },
  {
    category: 'public_order.noise', weight: 7, priority: 4, minutes: [15, 30],
    texts: [
      (v) => `${v.place}广场舞音响太响了，都${v.n(21, 23)}点了还在跳`,
      (v) => `${v.place}${v.pick(STREETS)}有人放鞭炮、唱歌，吵得孩子睡不着`,
    ],
  },
  {
    category: 'traffic.accident', weight: 14, priority: 2, minutes: [30, 60],
    texts: [
      (v) => `${v.place}${v.pick(STREETS)}${v.pick(VEHICLES)}和${v.pick(VEHICLES)}撞了，${v.pick(['没人受伤', '有一人腿受伤', '车损严重'])}`,
      (v) => `${v.place}${v.pick(STREETS)}两车剐蹭，双方争执不下，堵了路`,
    ],
  },
  {
    category: 'public_order.fight', weight: 4, priority: 1, minutes: [40, 90],
    texts: [
      (v) => `${v.place}${v.pick(STREETS)}有${v.n(3, 8)}个人在打架，有人拿着棍子`,
      (v) => `${v.place}饭店里喝酒的人打起来了，有人头破了`,
    ],
  },
  {
    category: 'help.lost_property', weight: 7, priority: 4, minutes: [10, 25],
    texts: [
      (v) => `在${v.place}${v.pick(STREETS)}丢了钱包，里面有身份证和${v.n(2, 9)}百块钱`,
      (v) => `${v.place}捡到一个书包，想交给警察`,
    ],
  },
  {
    category: 'help.missing', weight: 3, priority: 1, minutes: [40, 120],
    texts: [
      (v) => `${v.place}我家${v.n(70, 88)}岁的老人早上出门到现在没回来，有老年痴呆`,
      (v) => `${v.place}${v.n(5, 11)}岁的孩子放学没回家，找了一圈没找到`,
    ],
  },
  {
    category: 'help', weight: 2, priority: 1, minutes: [30, 90],
    texts: [(v) => `${v.place}桥头有个人在栏杆边徘徊，情绪很激动，说不想活了`],
  },
  {
    category: 'dispute.family', weight: 5, priority: 2, minutes: [30, 80],
    texts: [(v) => `${v.place}家里两口子吵架砸东西，${v.pick(['孩子在哭', '老人劝不住', '邻居听见了'])}`],
  },
  {
    category: 'criminal.fraud', weight: 4, priority: 2, minutes: [20, 40],
    texts: [(v) => `${v.place}我接到自称客服的电话，已经转了${v.n(2, 50)}千块钱，怀疑被骗了`],
  },
  {
    category: 'non_police.city_management', weight: 6, priority: 4, minutes: [0, 0], nonPolice: true,
    texts: [(v) => `${v.place}${v.pick(STREETS)}有人占道摆摊，把路堵了`, (v) => `${v.place}${v.pick(STREETS)}路灯坏了好几天，晚上太黑`],
  },
  {
    category: 'fire_rescue', weight: 2, priority: 1, minutes: [30, 60],
    texts: [(v) => `${v.place}${v.pick(STREETS)}路边杂草着火了，烟很大`],
  },
];

/** Share of the day's calls in each hour (quiet before dawn, busy in the morning and the evening). */
const HOURLY = [1.2, 0.8, 0.6, 0.5, 0.5, 0.8, 1.6, 3, 4.5, 5.5, 5.6, 5.2, 4.6, 4.4, 4.8, 5.2, 5.6, 6, 6.4, 6.6, 6.2, 5.2, 3.6, 2.2];

export interface GridPlace {
  code: string;
  name: string;
  place: string;
  weight: number;
  geometry: MultiPolygon;
  bbox: [number, number, number, number];
}

/** Grids of the demo county where people live; urban communities (社区) weigh more. */
export function demoPlaces(): GridPlace[] {
  const county = buildDemoCounty();
  const byCode = new Map(county.nodes.map((n) => [n.code, n]));
  return county.nodes
    .filter((n): n is DemoNode & { geometry: MultiPolygon } => n.level === 'grid' && n.geometry !== null)
    .map((n) => {
      const town = n.parentCode ? byCode.get(n.parentCode) : undefined;
      const place = `${(town?.name ?? '').replace(/派出所$/, '')}${n.name.replace(/网格$/, '')}`;
      return { code: n.code, name: n.name, place, weight: n.core ? 3 : 1, geometry: n.geometry, bbox: bbox(n.geometry) as [number, number, number, number] };
    });
}

function pickWeighted<T extends { weight: number }>(rng: Rng, items: readonly T[], total: number): T {
  let r = rng.next() * total;
  for (const it of items) {
    r -= it.weight;
    if (r <= 0) return it;
  }
  return items.at(-1)!;
}

/** Calls of one simulated day (deterministic for a seed): about `perDay` of them. */
export function generateDay(seed: number, perDay: number, places: GridPlace[] = demoPlaces()): SimCall[] {
  const rng = createRng(seed);
  const person = createPeople(rng);
  const kindTotal = KINDS.reduce((s, k) => s + k.weight, 0);
  const placeTotal = places.reduce((s, p) => s + p.weight, 0);
  const hourTotal = HOURLY.reduce((s, h) => s + h, 0);
  const calls: SimCall[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const expected = (perDay * HOURLY[hour]!) / hourTotal;
    // Poisson-ish: the expected count, rounded at random.
    const count = Math.floor(expected) + (rng.next() < expected - Math.floor(expected) ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const kind = pickWeighted(rng, KINDS, kindTotal);
      const place = pickWeighted(rng, places, placeTotal);
      let lon = 0;
      let lat = 0;
      for (let tries = 0; tries < 50; tries++) {
        lon = place.bbox[0] + rng.next() * (place.bbox[2] - place.bbox[0]);
        lat = place.bbox[1] + rng.next() * (place.bbox[3] - place.bbox[1]);
        if (booleanPointInPolygon([lon, lat], place.geometry)) break;
      }
      const vars: Vars = { place: place.place, rng, n: (lo, hi) => rng.int(lo, hi), pick: (items) => rng.pick(items) };
      const who = person();
      calls.push({
        atSecond: hour * 3600 + Math.floor(rng.next() * 3600),
        category: kind.category,
        priority: kind.priority,
        content: rng.pick(kind.texts)(vars),
        callerName: who.name,
        callerPhone: who.phone,
        lon: Math.round(lon * 1e6) / 1e6,
        lat: Math.round(lat * 1e6) / 1e6,
        gridCode: place.code,
        onSceneMinutes: kind.minutes[0] + Math.floor(rng.next() * (kind.minutes[1] - kind.minutes[0] + 1)),
        nonPolice: kind.nonPolice ?? false,
      });
    }
  }
  return calls.sort((a, b) => a.atSecond - b.atSecond);
}
