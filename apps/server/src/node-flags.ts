/**
 * Node flags every server process runs with (`npm start`, the test and bench harnesses).
 * A young generation of up to 32 MB per semi-space (V8's default is 16): position batches keep
 * thousands of small objects alive for the few tens of milliseconds until their group commit, and in
 * the default young generation they were copied and promoted; bench:avl measured the server's CPU
 * per ping 5.0–6.7 µs → 4.3–5.4 µs with it, for ≈ 30–50 MB more resident memory at most.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
