// bayeux-load against bayeux-fcgi behind lighttpd: a short bounded run in
// which every expected delivery arrives once (its figures are not asserted:
// speed belongs to bench/, not to tests).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startLighttpd, useServers, TOP_SRCDIR, SLOW, testLighttpdHealthy } from './harness.mjs';

const LOAD = process.env.BAYEUX_LOAD || path.join(TOP_SRCDIR, 'bayeux-load');
const T = { timeout: 120000 * SLOW };

function run(args) {
    return new Promise((resolve, reject) => {
        const child = spawn(LOAD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, out, err }));
    });
}

describe('bayeux-load behind lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '5000'] }),
    }));

    test('200 users in 10 rooms: every expected delivery arrives exactly once', T, async (t) => {
        const r = await run(['--url', `${fx.s.lighttpd.url}`, '--users', '200', '--rooms', '10',
            '--interval', '100', '--burst', '10', '--duration', '3', '--sources', '2']);
        assert.equal(r.code, 0, r.err.slice(-2000));
        const s = JSON.parse(r.out.trim().split('\n').pop());
        t.diagnostic(JSON.stringify(s));
        assert.ok(s.sent > 0 && s.expected > 0, 'messages were sent to populated rooms');
        assert.equal(s.received, s.expected);
        assert.equal(s.lost, 0);
        assert.equal(s.duplicates, 0);
        assert.equal(s.bayeux_errors, 0);
        assert.equal(s.http_errors, 0);
        assert.equal(s.handshakes, 201, 'each user (and the publisher) handshook once');
        assert.match(r.err, /users 200\/200 sent\/s/, 'a progress line every second');
    });

    test('refuses bad options with a message and status 2', T, async () => {
        const r = await run(['--users', '0']);
        assert.equal(r.code, 2);
        assert.match(r.err, /out of range/);
    });

    testLighttpdHealthy(fx, T);
});
