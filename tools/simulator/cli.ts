/**
 * `npm run sim -- --rate N --speed X [--seed S] [--minutes M] [--url http://127.0.0.1:3000]`
 * drives a running server through its public API with the demo accounts.
 */
import { parseArgs } from 'node:util';
import { Simulator } from './driver.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.PINGAN_URL ?? 'http://127.0.0.1:3000' },
    rate: { type: 'string' },
    speed: { type: 'string', default: '1' },
    seed: { type: 'string', default: '20261122' },
    minutes: { type: 'string' },
    'calls-per-day': { type: 'string', default: '400' },
    'start-hour': { type: 'string' },
    password: { type: 'string', default: process.env.PINGAN_DEMO_PASSWORD ?? 'pingan-demo-2026' },
  },
});
const num = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
  return n;
};
const sim = new Simulator({
  baseUrl: values.url!,
  seed: num(values.seed, 'seed')!,
  speed: num(values.speed, 'speed')!,
  callsPerMinute: num(values.rate, 'rate'),
  callsPerDay: num(values['calls-per-day'], 'calls-per-day'),
  durationMs: values.minutes ? num(values.minutes, 'minutes')! * 60_000 : undefined,
  password: values.password!,
  startHour: values['start-hour'] !== undefined ? Number(values['start-hour']) : undefined,
  log: (l) => console.log(l),
});
process.on('SIGINT', () => void sim.stop());
const report = setInterval(() => console.log(JSON.stringify(sim.stats)), 10_000);
await sim.prepare();
await sim.start();
clearInterval(report);
await sim.stop();
console.log(`simulator finished: ${JSON.stringify(sim.stats)}`);
process.exit(sim.stats.errors > 0 ? 1 : 0);
