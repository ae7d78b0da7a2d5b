/**
 * `npm start`: build the web app when its build is missing or older than its sources, then run
 * the server in this process's place.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const WEB = 'apps/web';
const DIST_INDEX = path.join(WEB, 'dist/index.html');

function newest(entry: string): number {
  if (!fs.existsSync(entry)) return 0;
  const st = fs.statSync(entry);
  if (st.isFile()) return st.mtimeMs;
  let m = 0;
  for (const name of fs.readdirSync(entry)) {
    if (name === 'dist' || name === 'node_modules') continue;
    m = Math.max(m, newest(path.join(entry, name)));
  }
  return m;
}

if (fs.existsSync(path.join(WEB, 'index.html'))) {
  const built = fs.existsSync(DIST_INDEX) ? fs.statSync(DIST_INDEX).mtimeMs : 0;
  const sources = Math.max(newest(WEB), newest('packages/contracts/src'));
  if (built < sources) {
    console.log("Ping'an: building the web app …");
    const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'apps/web/vite.config.ts', '--logLevel', 'warn'], {
      stdio: 'inherit',
    });
    if (r.status !== 0) {
      console.error("Ping'an: the web app failed to build; see above.");
      process.exit(r.status ?? 1);
    }
  }
}
await import('../apps/server/src/main.js');
