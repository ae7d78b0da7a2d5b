/**
 * `tsx faults/support/soak-heapdiff.ts <before.heapsnapshot> <after.heapsnapshot> [top]`: which kinds of
 * objects grew between two heap snapshots (by constructor or type name: count and self size), to find
 * what a soak's memory growth is made of.
 */
import fs from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function tally(file: string): Map<string, { count: number; size: number }> {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    // Strings and code by type; objects by constructor name; closures by function name.
    const name = type === 'object' || type === 'closure' ? `${type} ${s.strings[s.nodes[i + nameAt]!]}` : type;
    const t = out.get(name) ?? { count: 0, size: 0 };
    t.count++;
    t.size += s.nodes[i + sizeAt]!;
    out.set(name, t);
  }
  return out;
}

const [a, b, top = '30'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: tsx faults/support/soak-heapdiff.ts <before.heapsnapshot> <after.heapsnapshot> [top]');
  process.exit(2);
}
const before = tally(a);
const after = tally(b);
const total = (m: Map<string, { size: number }>) => [...m.values()].reduce((s, x) => s + x.size, 0);
console.log(`total self size ${(total(before) / 1048576).toFixed(1)} MB → ${(total(after) / 1048576).toFixed(1)} MB`);
const rows = [...new Set([...before.keys(), ...after.keys()])].map((k) => {
  const x = before.get(k) ?? { count: 0, size: 0 };
  const y = after.get(k) ?? { count: 0, size: 0 };
  return { k, dCount: y.count - x.count, dSize: y.size - x.size, count: y.count };
});
rows.sort((p, q) => q.dSize - p.dSize);
for (const r of rows.slice(0, Number(top))) console.log(`${(r.dSize / 1024).toFixed(0).padStart(8)} KB ${String(r.dCount).padStart(8)} objs (now ${r.count})  ${r.k.slice(0, 100)}`);
