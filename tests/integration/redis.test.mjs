// Scale-out through Redis: two responders, each behind its own lighttpd,
// joined by a real redis-server (--redis). A publish on one reaches the
// subscribers on both exactly once (a node skips its own messages coming
// back from Redis), in order, wildcards included; with Redis down each node
// keeps serving its own users and says "degraded" in /cometd/status; after
// Redis comes back the nodes reconnect by themselves.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
    startLighttpd, startResponder, useServers, testLighttpdHealthy, BayeuxClient, uniqueChannel,
    freePort, sanitizerReports, sleep,
} from './harness.mjs';
import {
    T, BOUND, startRedis, status, waitRedisState, collect, useRedis, ChatUser, joined, newRoom,
} from './redis-lib.mjs';

describe('two responders joined through Redis', () => {
    const redis = useRedis();

    const fx = useServers(async () => {
        const args = () => ['--timeout', '5000', '--redis', `redis://127.0.0.1:${redis.port}`];
        return { lighttpd: await startLighttpd({ responderArgs: args() }), node2: await startLighttpd({ responderArgs: args() }) };
    });

    test('status: both nodes connected to Redis', T, async () => {
        await waitRedisState(fx.s.lighttpd.url, 'connected', 'node 1');
        await waitRedisState(fx.s.node2.url, 'connected', 'node 2');
        const a = (await status(fx.s.lighttpd.url)).redis;
        const b = (await status(fx.s.node2.url)).redis;
        assert.notEqual(a.node, b.node, 'each responder has its own node id');
    });

    test('a publish reaches the subscribers of both nodes exactly once, in order', T, async () => {
        const ch = uniqueChannel('/cross');
        const a = await new BayeuxClient(fx.s.lighttpd.url).start([ch]);
        const b = await new BayeuxClient(fx.s.node2.url).start([ch]);
        const pub = await new BayeuxClient(fx.s.node2.url).start([ch]);   // subscribed to its own channel too
        const N = 50;
        for (let i = 0; i < N; i++) assert.equal((await pub.publish(ch, i)).successful, true);
        const want = Array.from({ length: N }, (_, i) => i);
        assert.deepEqual(await collect(a, N), want, 'remote subscriber: all, once, in order');
        assert.deepEqual(await collect(b, N), want, 'local subscriber: all, once');
        assert.deepEqual(await collect(pub, N), want, 'the publisher itself: once, not again from Redis');
        const more = await a.connect({ timeout: 500 });
        assert.deepEqual(more.messages, [], 'no duplicates afterwards');
        for (const c of [a, b, pub]) await c.disconnect();
    });

    test('wildcard subscriptions match publishes from the other node', T, async () => {
        const base = uniqueChannel('/wild');
        const one = await new BayeuxClient(fx.s.lighttpd.url).start([`${base}/*`]);
        const deep = await new BayeuxClient(fx.s.lighttpd.url).start([`${base}/**`]);
        const pub = await new BayeuxClient(fx.s.node2.url).start([]);
        await pub.publish(`${base}/a`, 'a');
        await pub.publish(`${base}/a/b`, 'a/b');
        assert.deepEqual(await collect(deep, 2), ['a', 'a/b']);
        assert.deepEqual(await collect(one, 1), ['a']);
        assert.deepEqual((await one.connect({ timeout: 500 })).messages, [], '/* does not match /a/b');
        for (const c of [one, deep, pub]) await c.disconnect();
    });

    test('Redis down: each node serves its own users and says degraded; back: cross-node again', T, async () => {
        const ch = uniqueChannel('/outage');
        const a = await new BayeuxClient(fx.s.lighttpd.url).start([ch]);
        const b = await new BayeuxClient(fx.s.node2.url).start([ch]);
        const pubA = await new BayeuxClient(fx.s.lighttpd.url).start([]);
        const pubB = await new BayeuxClient(fx.s.node2.url).start([]);
        await redis.server.stop();
        await waitRedisState(fx.s.lighttpd.url, 'degraded', 'node 1 notices');
        await pubA.publish(ch, 'local');
        assert.deepEqual(await collect(a, 1), ['local'], 'a node keeps serving its own users');
        redis.server = await startRedis(redis.port);
        await waitRedisState(fx.s.lighttpd.url, 'connected', 'node 1 reconnects');
        await waitRedisState(fx.s.node2.url, 'connected', 'node 2 reconnects');
        await pubB.publish(ch, 'after');
        assert.deepEqual(await collect(a, 1), ['after'], 'cross-node delivery is back');
        const bGot = await collect(b, 1);
        assert.ok(bGot.includes('after'), JSON.stringify(bGot));
        for (const c of [a, b, pubA, pubB]) await c.disconnect();
    });

    test('a bad --redis URL stops the start with status 2', T, async () => {
        const { BAYEUX_FCGI } = await import('./harness.mjs');
        const sock = path.join(os.tmpdir(), `bayeux-badurl-${process.pid}.sock`);
        const child = spawn(BAYEUX_FCGI, ['--listen', sock, '--redis', 'redis://:x'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => { err += d; });
        const code = await new Promise((r) => child.on('exit', r));
        assert.equal(code, 2);
        assert.match(err, /bad --redis URL/);
        assert.equal(fs.existsSync(sock), false, 'refused before the socket was made');
    });

    test('node 2: the responder was never restarted and reported no sanitizer errors', T, async () => {
        const srv = fx.s.node2;
        assert.equal(srv.currentResponderPid(), srv.responderPid, 'same responder process as at start');
        const info = await srv.stop();
        assert.deepEqual(info.sanitizerReports, [], 'no sanitizer reports / crashes in the logs');
        assert.equal(info.responderGone, true, 'the responder exited when lighttpd stopped');
    });

    testLighttpdHealthy(fx);
});

// lighttpd's "sticky" balance hashes the client's address: every request of
// one browser goes to the same responder, so its Bayeux session (which lives
// on one responder) is always found. Clients here come from different
// loopback addresses, as browsers on different hosts would.
describe('three responders behind one lighttpd (fastcgi.balance "sticky") and Redis', () => {
    const redis = useRedis();

    const fx = useServers(async () => {
        const args = ['--timeout', '5000', '--redis', `redis://127.0.0.1:${redis.port}`];
        const r = [];
        for (let i = 0; i < 3; i++) r.push(await startResponder({ args }));
        const lighttpd = await startLighttpd({ backends: r.map((x) => ({ port: x.port })), balance: 'sticky' });
        return { lighttpd, r0: r[0], r1: r[1], r2: r[2] };
    });

    const agents = new Map();
    // lighttpd hashes the address text (djb): 127.0.0.2 ... 127.0.0.9 differ in
    // the last bits only and all pick one backend; addresses that differ in
    // more places, like real clients', spread
    const addressOf = (n) => `127.${(n * 17) % 250}.${(n * 29) % 250}.1`;
    const agentFor = (n) => {
        if (!agents.has(n)) agents.set(n, new http.Agent({ keepAlive: true, localAddress: addressOf(n) }));
        return agents.get(n);
    };

    test('each client address always reaches the same responder; addresses spread over them', T, async () => {
        const url = fx.s.lighttpd.url;
        const nodeOf = new Map();
        for (let n = 2; n < 14; n++) {
            const seen = new Set();
            for (let k = 0; k < 4; k++) seen.add((await status(url, { agent: agentFor(n) })).redis.node);
            assert.equal(seen.size, 1, `${addressOf(n)} always reaches one responder: ${[...seen]}`);
            nodeOf.set(n, [...seen][0]);
        }
        assert.ok(new Set(nodeOf.values()).size >= 2, `12 addresses spread over the responders: ${JSON.stringify([...nodeOf])}`);
        for (const n of nodeOf.keys()) await waitRedisState(url, 'connected', `the responder of ${addressOf(n)}`, { agent: agentFor(n) });
    });

    test('chat across responders: every subscriber once, sessions found on their responder', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/sticky');
        const clients = [];
        const nodes = new Set();
        for (let n = 2; n < 14; n++) {
            clients.push(await new BayeuxClient(url, { agent: agentFor(n) }).start([ch]));
            nodes.add((await status(url, { agent: agentFor(n) })).redis.node);
        }
        assert.ok(nodes.size >= 2, 'the clients are on several responders');
        for (let i = 0; i < clients.length; i++) {
            const r = await clients[i].publish(ch, `from ${i}`);
            assert.equal(r.successful, true, `client ${i}'s session is found: ${JSON.stringify(r)}`);
        }
        const want = clients.map((_, i) => `from ${i}`).sort();
        for (let i = 0; i < clients.length; i++) {
            assert.deepEqual((await collect(clients[i], want.length)).sort(), want, `client ${i} got every message once`);
        }
        for (const c of clients) await c.disconnect();
    });

    test('one member list through one lighttpd; a killed responder\'s users re-handshake onto the others', T, async () => {
        const url = fx.s.lighttpd.url;
        const room = newRoom();
        const users = [];
        for (let n = 2; n < 14; n++) {
            const u = await new ChatUser(url, `u${n}`, { agent: agentFor(n) }).start(room);
            joined(await u.join());
            u.pid = (await status(url, { agent: agentFor(n) })).pid;
            users.push(u);
        }
        const all = users.map((u) => u.name);
        for (const u of users) await u.untilMembers(all, 'every member of every responder');

        const victim = [fx.s.r0, fx.s.r1, fx.s.r2].find((r) => r.pid === users[0].pid);
        assert.ok(victim, `the responder of ${users[0].name} is one of the three`);
        const gone = users.filter((u) => u.pid === victim.pid);
        const kept = users.filter((u) => u.pid !== victim.pid);
        assert.ok(kept.length > 0, 'some users are on the other responders');
        await victim.stop('SIGKILL');
        victim.killed = true;
        for (const u of kept) await u.untilMembers(kept.map((k) => k.name), 'the killed responder\'s users left');

        // lighttpd moves their address to a live responder, where their session is unknown
        for (const u of gone) {
            let r = null;
            const end = Date.now() + BOUND;
            while (!r && Date.now() < end) {
                try { r = await u.client.connect({ timeout: 0 }); } catch { await sleep(100); }
            }
            assert.ok(r, `${u.name}: lighttpd answers again`);
            assert.equal(r.reply.advice?.reconnect, 'handshake', `${u.name}: ${JSON.stringify(r.reply)}`);
            await u.start(room);
            joined(await u.join());
            const now = (await status(url, { agent: u.client.agent })).pid;
            assert.notEqual(now, victim.pid, `${u.name} is on a live responder`);
        }
        for (const u of users) await u.untilMembers(all, 'everyone back in one list');
        for (const u of users) await u.client.disconnect();
    });

    test('the responders stop cleanly with no sanitizer report', T, async () => {
        for (const srv of [fx.s.r0, fx.s.r1, fx.s.r2]) {
            if (!srv.killed) {
                const info = await srv.stop();
                assert.equal(info.code, 0, `exit status: ${JSON.stringify(info)}`);
            }
            assert.deepEqual(sanitizerReports(srv.log()), []);
        }
        for (const a of agents.values()) a.destroy();
    });
});
