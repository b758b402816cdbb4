// 2,000 bayeux-load users publishing through lighttpd for a few seconds:
// every expected delivery arrives exactly once, every user is served, and
// the responder's log holds no sanitizer report.  Its point is the ASan+UBSan
// and TSan builds: the responder's threads under a real load.  Figures are
// printed, not asserted (speed belongs to bench/).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, runLoad, unlimitedPublishArgs, sanitizerReports, testLighttpdHealthy, SLOW,
} from './harness.mjs';

const USERS = 2000;
const T = { timeout: 180000 * SLOW };

describe('2,000 users with publishing through lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({
            responderArgs: [...unlimitedPublishArgs(), '--timeout', '10000'],
            maxFds: 16384, maxConnections: 8000,
        }),
    }));

    test('nothing lost, nothing twice, every user served, no sanitizer report', T, async (t) => {
        const r = await runLoad(['--url', fx.s.lighttpd.url, '--users', String(USERS), '--rooms', '20',
            '--interval', '100', '--burst', '5', '--duration', '8', '--procs', '2', '--sources', '2']);
        assert.equal(r.code, 0, r.err.slice(-3000));
        const s = r.summary;
        assert.ok(s, `a summary: ${r.out.slice(-500)}`);
        t.diagnostic(JSON.stringify(s));
        assert.ok(s.sent > 0 && s.expected > 0, 'messages were sent to populated rooms');
        assert.equal(s.unacked, 0, 'every publish acknowledged');
        assert.equal(s.lost, 0);
        assert.equal(s.duplicates, 0);
        assert.equal(s.received, s.expected);
        assert.equal(s.users_without_deliveries, 0, 'every user received messages');
        assert.equal(s.handshakes, USERS + 1, 'one handshake per user and the publisher');
        assert.equal(s.outages, 0, 'no user ever lost its session');
        assert.equal(s.http_errors, 0);
        assert.equal(s.bayeux_errors, 0);
        assert.equal(s.users_gave_up, 0);
        assert.deepEqual(sanitizerReports(fx.s.lighttpd.outLog()), [], 'no sanitizer report while running');
    });

    testLighttpdHealthy(fx, T);
});
