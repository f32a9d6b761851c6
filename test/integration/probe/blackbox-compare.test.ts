import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLACKBOX_EXPORTER_BIN, missingBinaries } from '../../support/binaries.ts';
import { AGREEING, compareWithBlackbox, formatRows } from './compare-blackbox.ts';

test(
  'Irin and prometheus-blackbox-exporter agree on the same HTTPS targets',
  { skip: missingBinaries(BLACKBOX_EXPORTER_BIN), timeout: 60_000 },
  async () => {
    const rows = await compareWithBlackbox();
    assert.equal(rows.length, 6);
    for (const r of rows) {
      for (const m of AGREEING) assert.equal(r.irin[m], r.blackbox[m], `${r.case}: ${m}\n${formatRows([r])}`);
      // Verified chains: the same expiry. Unverified: blackbox prints Go's zero time, Irin leaves the series out.
      if (
        r.blackbox.probe_ssl_last_chain_expiry_timestamp_seconds !== null &&
        r.blackbox.probe_ssl_last_chain_expiry_timestamp_seconds > 0
      ) {
        assert.equal(
          r.irin.probe_ssl_last_chain_expiry_timestamp_seconds,
          r.blackbox.probe_ssl_last_chain_expiry_timestamp_seconds,
          r.case,
        );
      } else {
        assert.equal(r.irin.probe_ssl_last_chain_expiry_timestamp_seconds, null, r.case);
      }
    }
    const verified = rows.find((r) => r.case === 'CA-signed, verified')!;
    assert.equal(verified.irin.probe_success, 1);
    assert.ok(verified.irin.probe_ssl_earliest_cert_expiry! > Date.now() / 1000);
    assert.equal(rows.find((r) => r.case === 'expired, verified')!.irin.probe_success, 0);
  },
);
