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
        // the publisher sessions of bayeux-load outrun the default per-session rate limit
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '5000', '--publish-rate', '0'] }),
    }));

    /** One bounded run; asserts counts only: every expected delivery once, every user served. */
    async function smoke(t, extra) {
        const r = await run(['--url', `${fx.s.lighttpd.url}`, '--users', '200', '--rooms', '20',
            '--interval', '100', '--burst', '10', '--duration', '5', '--sources', '2', ...extra]);
        assert.equal(r.code, 0, r.err.slice(-2000));
        const s = JSON.parse(r.out.trim().split('\n').pop());
        t.diagnostic(JSON.stringify(s));
        assert.ok(s.sent > 0 && s.expected > 0, 'messages were sent to populated rooms');
        assert.equal(s.received, s.expected);
        assert.equal(s.lost, 0);
        assert.equal(s.duplicates, 0);
        assert.equal(s.users_without_deliveries, 0, 'every user received messages');
        assert.equal(s.bayeux_errors, 0);
        assert.equal(s.http_errors, 0);
        assert.equal(s.users_gave_up, 0);
        assert.equal(s.handshakes, 201, 'each user (and the publisher) handshook once');
        assert.equal(s.latency_ms.n, s.received, 'every delivery has a latency');
        assert.match(r.err, /users 200\/200 sent\/s/, 'a progress line every second');
        return s;
    }

    test('200 users in 20 rooms: every expected delivery arrives exactly once', T, async (t) => {
        const s = await smoke(t, []);
        assert.equal(s.procs, 1);
    });

    test('the same spread over 3 worker processes: counts add up across them', T, async (t) => {
        const s = await smoke(t, ['--procs', '3']);
        assert.equal(s.procs, 3);
    });

    test('refuses bad options with a message and status 2', T, async () => {
        const r = await run(['--users', '0']);
        assert.equal(r.code, 2);
        assert.match(r.err, /out of range/);
        const bad = await run(['--users', '12x']);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--users needs a whole number/);
        const procs = await run(['--users', '2', '--procs', '3']);
        assert.equal(procs.code, 2, 'more workers than users');
    });

    test('ends its sessions with /meta/disconnect: the server holds no poll of the run afterwards', T, async () => {
        const r = await run(['--url', `${fx.s.lighttpd.url}`, '--users', '50', '--rooms', '5',
            '--interval', '200', '--duration', '1', '--procs', '2']);
        assert.equal(r.code, 0, r.err.slice(-2000));
        const pid = fx.s.lighttpd.responderPid;
        // listening socket, std streams, a few more: not 50 parked connections
        const fds = (await import('node:fs')).readdirSync(`/proc/${pid}/fd`).length;
        assert.ok(fds < 30, `the responder still holds ${fds} file descriptors`);
    });

    testLighttpdHealthy(fx, T);
});
