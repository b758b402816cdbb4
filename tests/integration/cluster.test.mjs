// One chat over three responders joined through a real redis-server: each
// responder behind its own lighttpd, so the test knows where every user is.
// Member lists, join/leave notices, the room list and private messages span
// the responders; a killed responder's members leave every list (liveness
// by heartbeat) and its users come back through a new one; a stopped one
// says goodbye; after a Redis restart the lists are global again.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, startResponder, useServers, BayeuxClient, sanitizerReports, sleep, request,
} from './harness.mjs';
import {
    T, BOUND, startRedis, status, waitRedisState, useRedis, ChatUser, joined, newRoom,
} from './redis-lib.mjs';


describe('one chat over three responders joined through Redis', () => {
    const redis = useRedis();
    const args = () => ['--timeout', '5000', '--redis', `redis://127.0.0.1:${redis.port}`];
    const extra = [];   // responders started by the tests

    const fx = useServers(async () => {
        const s = {};
        for (let i = 0; i < 3; i++) {
            s[`r${i}`] = await startResponder({ args: args() });
            s[`l${i}`] = await startLighttpd({ backends: [{ port: s[`r${i}`].port }] });
        }
        return s;
    });
    const url = (i) => fx.s[`l${i}`].url;

    async function allConnected() {
        for (let i = 0; i < 3; i++) await waitRedisState(url(i), 'connected', `node ${i}`);
    }

    /** The room list (/service/rooms) as node i answers it. */
    async function roomsOn(i) {
        const asker = new BayeuxClient(url(i));
        await asker.start([]);
        await asker.publish('/service/rooms', {});
        const end = Date.now() + BOUND;
        let list = null;
        while (!list && Date.now() < end) {
            const r = await asker.connect({ timeout: 500 });
            list = r.messages.find((m) => m.channel === '/service/rooms')?.data ?? null;
        }
        await asker.disconnect();
        assert.ok(list, `node ${i} answers the room list`);
        return list;
    }

    /** Users on the given nodes, started in one new room and joined in order. */
    async function usersIn(spec) {
        const room = newRoom();
        const users = [];
        for (const [name, node] of spec) {
            const u = await new ChatUser(url(node), name).start(room);
            joined(await u.join());
            users.push(u);
        }
        return users;
    }

    test('member lists, join notices and the room list cover every responder', T, async () => {
        await allConnected();
        const users = await usersIn([['alice', 0], ['bob', 1], ['carol', 2]]);
        const names = users.map((u) => u.name);
        for (const u of users) await u.untilMembers(names, 'one list across the responders');
        const [alice] = users;
        await alice.until((u) => ['bob', 'carol'].every((n) => u.chats().some((d) => d.user === n && d.membership === 'join')),
            'join notices of the users on the other responders');

        assert.deepEqual((await roomsOn(2)).find((e) => e.room === alice.room), { room: alice.room, members: 3 },
            'the room list of a responder counts the members of all');
        for (const u of users) await u.client.disconnect();
    });

    test('a name held on another responder is taken', T, async () => {
        const [alice] = await usersIn([['alice', 0]]);
        const other = await new ChatUser(url(1), 'alice').start(alice.room);
        const end = Date.now() + BOUND;
        while (!(await roomsOn(1)).some((e) => e.room === alice.room)) {
            assert.ok(Date.now() < end, 'node 1 learns of alice');
            await sleep(100);
        }
        const r = await other.join('alice');
        assert.equal(r.successful, false);
        assert.match(r.error, /^409:alice:/);
        joined(await other.join('alice2'));
        await alice.untilMembers(['alice', 'alice2'], 'the second name is listed');
        for (const u of [alice, other]) await u.client.disconnect();
    });

    test('a private message reaches a peer on another responder and nobody else', T, async () => {
        const [alice, bob, carol] = await usersIn([['alice', 0], ['bob', 1], ['carol', 2]]);
        await alice.untilMembers(['alice', 'bob', 'carol'], 'all listed');
        const r = await alice.client.publish('/service/privatechat', { room: alice.room, chat: 'psst', peer: 'carol' });
        assert.equal(r.successful, true, JSON.stringify(r));
        const isPsst = (d) => d.scope === 'private' && d.chat === 'psst' && d.user === 'alice';
        await carol.until((u) => u.chats().some(isPsst), 'carol gets the private message');
        await alice.until((u) => u.chats().some(isPsst), 'the sender gets its copy');
        assert.equal(carol.chats().filter(isPsst).length, 1, 'once');
        // bob is on a third responder: the message went through Redis to all
        // of them, so by the time a later broadcast reaches bob, it would have too
        assert.equal((await carol.client.publish(`/chat/${alice.room}`, { chat: 'after' })).successful, true);
        await bob.until((u) => u.chats().some((d) => d.chat === 'after'), 'a later broadcast reaches bob');
        assert.equal(bob.chats().some(isPsst), false, 'bob does not get the private message');

        const unknown = await alice.client.publish('/service/privatechat', { room: alice.room, chat: 'x', peer: 'nobody' });
        assert.equal(unknown.successful, false);
        assert.match(unknown.error, /^404:nobody:/);
        for (const u of [alice, bob, carol]) await u.client.disconnect();
    });

    test('a leave and a disconnect on one responder update the lists everywhere', T, async () => {
        const [alice, bob, carol] = await usersIn([['alice', 0], ['bob', 1], ['carol', 2]]);
        await alice.untilMembers(['alice', 'bob', 'carol'], 'all listed');
        joined(await bob.client.publish('/service/members', { room: bob.room, leave: true }));
        for (const u of [alice, carol]) await u.untilMembers(['alice', 'carol'], 'bob left');
        await alice.until((u) => u.chats().some((d) => d.user === 'bob' && d.membership === 'leave'), 'the leave notice');
        await carol.client.disconnect();
        await alice.untilMembers(['alice'], 'carol disconnected');
        for (const u of [alice, bob]) await u.client.disconnect();
    });

    test('a killed responder: its members leave every list; its users re-handshake and re-join', T, async () => {
        const users = await usersIn([['alice', 0], ['bob', 1], ['carol', 2], ['frank', 2]]);
        const [alice, bob, carol, frank] = users;
        for (const u of [alice, bob]) await u.untilMembers(['alice', 'bob', 'carol', 'frank'], 'all listed');

        const dead = fx.s.r2;
        await dead.stop('SIGKILL');
        for (const u of [alice, bob]) await u.untilMembers(['alice', 'bob'], 'the killed responder\'s members left');
        await alice.until((u) => ['carol', 'frank'].every((n) => u.chats().some((d) => d.user === n && d.membership === 'leave')),
            'leave notices for them');
        await sleep(1500);   // the 1 s ticks would have dropped more by now: nothing else goes
        assert.deepEqual(alice.members(), ['alice', 'bob'], 'alice and bob stay');

        // a new responder where the old one was (what lighttpd or systemd would start)
        const again = await startResponder({ args: args(), port: dead.port, dir: dead.dir });
        extra.push(again);
        await waitRedisState(url(2), 'connected', 'the new responder');
        for (const u of [carol, frank]) {
            let r;
            const end = Date.now() + BOUND;
            do {
                try { r = await u.client.connect({ timeout: 0 }); } catch { r = null; await sleep(100); }   // 503 while lighttpd retries
            } while (!r && Date.now() < end);
            assert.ok(r, 'the new responder answers');
            assert.equal(r.reply.successful, false);
            assert.equal(r.reply.advice.reconnect, 'handshake', 'the old session is gone: handshake again');
            await u.start(u.room);
            joined(await u.join());
        }
        for (const u of users) await u.untilMembers(['alice', 'bob', 'carol', 'frank'], 'back in the lists');
        const st = (await status(url(0))).redis;
        assert.equal(st.nodes, 2, `the killed node is forgotten, the new one known: ${JSON.stringify(st)}`);
        assert.equal(st.remote_members, 3, 'bob, carol and frank; no ghosts');
        const prom = (await request(`${url(0)}/status?format=prometheus`)).text;
        assert.match(prom, /^bayeux_redis_up 1$/m);
        assert.match(prom, /^bayeux_redis_nodes 2$/m);
        assert.match(prom, /^bayeux_redis_remote_members 3$/m);
        assert.match(prom, /^# TYPE bayeux_redis_sent_total counter$/m);
        assert.ok(Number(/^bayeux_redis_received_total (\d+)$/m.exec(prom)[1]) > 0, 'received from the others');
        for (const u of users) await u.client.disconnect();
    });

    test('a responder stopped with SIGTERM says goodbye: its members leave at once', T, async () => {
        const [alice, dora] = await usersIn([['alice', 0], ['dora', 2]]);
        await alice.untilMembers(['alice', 'dora'], 'both listed');
        const info = await extra.pop().stop('SIGTERM');
        assert.equal(info.code, 0);
        await alice.untilMembers(['alice'], 'dora left with her responder');
        assert.match(fx.s.r0.log(), /responder [0-9a-f]{8}\.\.\. stopped: its 1 members left/,
            'the goodbye, not the heartbeat timeout, removed her');
        await alice.client.disconnect();
        void dora;
    });

    test('Redis restart: each responder keeps its own users, then the lists are global again', T, async () => {
        const [alice, bob] = await usersIn([['alice', 0], ['bob', 1]]);
        for (const u of [alice, bob]) await u.untilMembers(['alice', 'bob'], 'both listed');
        await redis.server.stop();
        await waitRedisState(url(0), 'degraded', 'node 0 notices');
        await alice.untilMembers(['alice'], 'without Redis, node 0 lists its own users');
        await bob.untilMembers(['bob'], 'and node 1 its own');
        redis.server = await startRedis(redis.port);
        for (const u of [alice, bob]) await u.untilMembers(['alice', 'bob'], 'resynced after the restart');
        assert.equal((await bob.client.publish(`/chat/${bob.room}`, { chat: 'hello again' })).successful, true);
        await alice.until((u) => u.chats().some((d) => d.chat === 'hello again'), 'chat crosses again');
        for (const u of [alice, bob]) await u.client.disconnect();
    });

    test('the responders stop cleanly with no sanitizer report', T, async () => {
        for (const srv of [fx.s.r0, fx.s.r1, ...extra]) {
            const info = await srv.stop();
            assert.equal(info.code, 0, `exit status: ${JSON.stringify(info)}`);
        }
        for (const srv of [fx.s.r0, fx.s.r1, fx.s.r2]) assert.deepEqual(sanitizerReports(srv.log()), []);
    });
});
