/**
 * Node flags every server process runs with (`npm start`, the test and bench harnesses).
 * A young generation of up to 32 MB per semi-space (V8's default is 16): position batches keep
 * thousands of small objects alive for the few tens of milliseconds until their group commit, and in
 * the default young generation they were copied and promoted; bench:avl measured the server's CPU
 * per ping 5.0–6.7 µs → 4.3–5.4 µs with it, for ≈ 30–50 MB more resident memory at most.
 * No allocation-site pretenuring: V8 saw most points survive their first scavenge (they wait for the
 * commit) and began allocating them straight in the old generation, where they died a few hundred
 * milliseconds later and cost a mark-compact every second or two. Five alternating bench:avl pairs
 * (2026-11-23): server CPU per ping 6.3 / 6.4 / 7.6 / 6.5 / 7.2 µs with it against 6.7 / 7.0 / 8.9 /
 * 7.9 / 7.0 µs without (mean −9 %), peak RSS 351–394 MB against 393–432 MB.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--no-allocation-site-pretenuring'];
