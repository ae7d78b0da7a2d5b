import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { SERVER_NODE_FLAGS } from './node-flags.js';

describe('server node flags', () => {
  it('`npm start` runs node with every flag the harnesses use', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const start = pkg.scripts.start!.split(/\s+/);
    assert.equal(start[0], 'node', 'npm start launches node itself, so it can pass V8 flags');
    for (const flag of SERVER_NODE_FLAGS) assert.ok(start.includes(flag), `npm start lacks ${flag}`);
  });
});
