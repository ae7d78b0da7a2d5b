/**
 * `npm run audit:verify`: recompute the audit trail's hash chain on the configured database
 * (DATABASE_URL or the embedded data directory) and exit non-zero if any record was edited or removed.
 */
import { loadConfig } from '../apps/server/src/platform/config.js';
import { openDatabase } from '../apps/server/src/platform/db/index.js';
import { verifyAuditChain } from '../apps/server/src/platform/audit/service.js';

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.PINGAN_DATA_DIR });
try {
  const result = await verifyAuditChain(database.db);
  if (result.ok) {
    console.log(`audit chain intact: ${result.checked} records checked`);
  } else {
    console.error(`audit chain BROKEN at record ${result.firstBroken?.seq}: ${result.firstBroken?.reason} (${result.checked} checked before it)`);
    process.exitCode = 2;
  }
} finally {
  await database.close();
}
