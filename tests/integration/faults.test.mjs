// Faults under load: 2,000 bayeux-load users through lighttpd while the
// bin-path responder is killed (SIGKILL), stopped (SIGTERM), or lighttpd
// restarts gracefully (SIGUSR1).  In each case lighttpd starts a new
// responder, every user handshakes again, re-subscribes to its room and
// receives again; nothing is lost outside the outage.  The recovery time is
// printed, not asserted (speed belongs to bench/).
//
// What lighttpd 1.4.69 does (checked here):
//   SIGKILL of the responder: held polls answered 500 at once ("child
//     signalled: 9"), a new responder started at once.
//   SIGTERM of the responder: it answers its held polls with reconnect advice
//     and exits 0 ("child exited: 0"); lighttpd starts a new one at once.
//   SIGUSR1 to lighttpd: graceful restart in the same process; requests in
//     progress (held polls) may finish until server.graceful-shutdown-timeout
//     (unset: a few seconds), then their connections are closed without an
//     answer; the bin-path responder is stopped with SIGTERM and a new one
//     started with the re-read configuration, so every session is lost.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import {
    startLighttpd, removeDirs, printLogs, runLoad, unlimitedPublishArgs, BayeuxClient, request,
    within, stillPendingAfter, uniqueChannel, sleep, SLOW,
} from './harness.mjs';

const USERS = 2000;
const T = { timeout: 300000 * SLOW };

/** lighttpd with room for 2,000 users and what reconnecting leaves behind. */
function startServer() {
    return startLighttpd({
        responderArgs: [...unlimitedPublishArgs(), '--timeout', '20000'],
        maxFds: 16384, maxConnections: 8000,
    });
}

/** Runs the load; calls fault() once publishing has gone on for a while.
 * durationS: how long to publish (enough for the fault, the recovery and
 * some seconds of delivery after it, at this build's speed). */
async function loadWithFault(srv, durationS, fault) {
    let steady = 0, fired = null;
    const run = runLoad(['--url', srv.url, '--users', String(USERS), '--rooms', '10',
        '--interval', '100', '--burst', '2', '--duration', String(durationS),
        '--procs', '2', '--sources', '2'], {
        onLine: (l) => {
            const m = /users (\d+)\/\d+ sent\/s (\d+)/.exec(l);
            if (!fired && m && Number(m[1]) === USERS && Number(m[2]) > 0 && ++steady === 2) {
                fired = Promise.resolve().then(fault);
                fired.catch(() => {}); // reported when awaited below
            }
        },
    });
    const r = await run;
    if (fired) await fired;
    return { ...r, fired: !!fired };
}

/** What every recovery must show: all users back, receiving, nothing lost outside the outage. */
function assertRecovered(t, r, what) {
    assert.equal(r.fired, true, `${what}: the fault was injected while publishing`);
    assert.equal(r.code, 0, r.err.slice(-3000));
    const s = r.summary;
    assert.ok(s, `a summary: ${r.out.slice(-500)}`);
    t.diagnostic(`${what}: recovery_ms ${s.recovery_ms} (each ${JSON.stringify(s.recoveries_ms)}), outages ${s.outages}, ` +
        `users re-handshaken ${s.users_rehandshaken}, lost_in_outage ${s.lost_in_outage}, unacked ${s.unacked}, ` +
        `http_errors ${s.http_errors}, bayeux_errors ${s.bayeux_errors}`);
    t.diagnostic(JSON.stringify(s));
    assert.ok(s.outages >= 1, 'the outage was seen');
    assert.equal(s.recovered, true, 'every user came back');
    assert.equal(typeof s.recovery_ms, 'number');
    assert.equal(s.users_rehandshaken, USERS, 'every user handshook again (the sessions died with the process)');
    assert.ok(s.handshakes >= 2 * (USERS + 1), `handshakes ${s.handshakes}: users and publisher twice`);
    assert.equal(s.users_silent_after_recovery, 0, 'every user received messages sent after the recovery');
    assert.equal(s.users_gave_up, 0);
    assert.equal(s.lost, 0, 'nothing lost outside the outage window');
    assert.equal(s.duplicates, 0);
    assert.ok(s.sent > s.unacked, 'publishing went on after the recovery');
    return s;
}

/** Stops lighttpd; asserts a clean end (no sanitizer report, the responder gone). */
async function finish(t, srv, failed) {
    const info = await srv.stop();
    if (failed) printLogs({ lighttpd: srv });
    await removeDirs({ lighttpd: srv });
    assert.deepEqual(info.sanitizerReports, [], 'no sanitizer report in the logs');
    assert.equal(info.responderGone, true, 'the responder exited with lighttpd');
}

/** Runs body(srv) against a fresh lighttpd, printing its logs if it fails
 * (the body's error is the one reported). */
async function withServer(t, body) {
    const srv = await startServer();
    try {
        await body(srv);
    } catch (e) {
        await finish(t, srv, true).catch((e2) => console.error('after the failure:', e2.message));
        throw e;
    }
    await finish(t, srv, false);
}

function alive(pid) {
    try { return !/^State:\s+[ZX]/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}

/** Where the threads of a process that should have exited are (gdb if installed). */
function threadsOf(pid) {
    try {
        return execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt'],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30000 });
    } catch {
        return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
            const f = (n) => { try { return fs.readFileSync(`/proc/${pid}/task/${tid}/${n}`, 'utf8').trim(); } catch { return '?'; } };
            return `${tid} ${f('comm')} ${f('wchan')}`;
        }).join('\n');
    }
}

/** Waits (bounded) for pid to exit; fails with its threads' stacks if it does not. */
async function assertExits(pid, what) {
    const end = Date.now() + 20000 * SLOW;
    while (alive(pid) && Date.now() < end) await sleep(100);
    if (alive(pid)) assert.fail(`${what}: process ${pid} still runs; its threads:\n${threadsOf(pid)}`);
}

describe('faults under 2,000 users through lighttpd (bin-path)', () => {
    test('kill -9 of the responder: lighttpd starts a new one, every user re-handshakes and re-joins', T, (t) => withServer(t, async (srv) => {
        const first = srv.responderPid;
        const r = await loadWithFault(srv, 10 + 4 * SLOW, () => process.kill(first, 'SIGKILL'));
        assertRecovered(t, r, 'SIGKILL');
        const now = srv.currentResponderPid();
        assert.ok(now && now !== first, `a new responder (was ${first}, now ${now})`);
        assert.match(srv.errorLog(), /child signalled: 9/, 'lighttpd saw the responder killed');
    }));

    test('SIGTERM of the responder: held polls answered with reconnect advice, exit 0, clients recover', T, (t) => withServer(t, async (srv) => {
        const first = srv.responderPid;
        // one client of our own, to see what a held poll is answered
        const ch = uniqueChannel('/term');
        const watcher = await new BayeuxClient(srv.url).start([ch]);
        let held = null;
        const r = await loadWithFault(srv, 10 + 4 * SLOW, async () => {
            held = watcher.connect();
            assert.equal(await stillPendingAfter(held, 300), true, 'our connect is parked');
            process.kill(first, 'SIGTERM');
            await assertExits(first, 'the responder after SIGTERM');
        });
        const answer = await within(held, 10000 * SLOW, 'the held connect answered on SIGTERM');
        t.diagnostic(`held connect answered: ${JSON.stringify(answer.reply)}`);
        assert.equal(answer.reply.successful, true);
        assert.equal(answer.reply.advice && answer.reply.advice.reconnect, 'retry',
            `reconnect advice in ${JSON.stringify(answer.reply)}`);
        assertRecovered(t, r, 'SIGTERM');
        const now = srv.currentResponderPid();
        assert.ok(now && now !== first, `a new responder (was ${first}, now ${now})`);
        assert.match(srv.errorLog(), /child exited: 0\b/, 'the responder exited with status 0');
        const stopped = /\[(\d+)\] info [^\n]*stopped \((\d+) held connects answered\)/.exec(srv.outLog());
        assert.ok(stopped && Number(stopped[1]) === first, `the responder logged its stop:\n${srv.outLog().slice(-2000)}`);
        t.diagnostic(`held connects answered on SIGTERM: ${stopped[2]}`);
        assert.ok(Number(stopped[2]) > USERS / 2, 'most users were parked and answered');
    }));

    test('lighttpd graceful restart (SIGUSR1): no client stuck, every user receives again, lighttpd serves', T, (t) => withServer(t, async (srv) => {
        const first = srv.responderPid;
        const watcher = await new BayeuxClient(srv.url).start([uniqueChannel('/usr1')]);
        let held = null, t0 = 0;
        const r = await loadWithFault(srv, 20 + 4 * SLOW, async () => {
            held = watcher.connect().then((x) => ({ reply: x.reply, at: performance.now() }),
                (e) => ({ error: e.message, at: performance.now() }));
            await sleep(300);
            t0 = performance.now();
            process.kill(srv.pid, 'SIGUSR1');
        });
        const end = await within(held, 60000 * SLOW, 'the held connect ended');
        t.diagnostic(`held connect during the graceful restart: ${JSON.stringify(end.reply || end.error).slice(0, 200)} ` +
            `${Math.round(end.at - t0)} ms after SIGUSR1`);
        assertRecovered(t, r, 'SIGUSR1');
        assert.equal(srv.child.exitInfo, null, 'lighttpd still runs (same process)');
        const now = srv.currentResponderPid();
        assert.ok(now && now !== first, `lighttpd started a new responder (was ${first}, now ${now})`);
        const page = await request(`${srv.origin}/`);
        assert.equal(page.status, 200, 'lighttpd serves static files after the restart');
        const c = await new BayeuxClient(srv.url).start([uniqueChannel('/after')]);
        assert.ok(c.clientId, 'and Bayeux');
        await c.disconnect();
        assert.match(srv.errorLog(), /graceful shutdown started/);
    }));
});
