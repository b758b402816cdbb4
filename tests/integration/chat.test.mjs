// The chat service through lighttpd, over the wire: join, member lists,
// name taken, chat under the joined name, private messages, and a session
// that stops polling leaving every list within maxInterval + poll timeout.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLighttpd, useServers, BayeuxClient, sleep, SLOW, testLighttpdHealthy } from './harness.mjs';

const T = { timeout: 60000 * SLOW };

/** Long-polls in the background, collecting what arrives. */
function poller(client) {
    const p = { got: [], stop: false };
    p.done = (async () => {
        while (!p.stop) {
            const { messages } = await client.connect();
            p.got.push(...messages);
        }
    })();
    p.waitFor = async (pred, ms = 10000 * SLOW) => {
        const until = Date.now() + ms;
        for (;;) {
            const m = p.got.find(pred);
            if (m) return m;
            if (Date.now() > until) throw new Error(`not received; got ${JSON.stringify(p.got).slice(0, 2000)}`);
            await sleep(50);
        }
    };
    return p;
}

async function joined(url, user, room) {
    const c = new BayeuxClient(url);
    await c.start([`/chat/${room}`, `/members/${room}`, '/rooms']);
    const r = await c.publish('/service/members', { user, room });
    assert.equal(r.successful, true, JSON.stringify(r));
    return c;
}

describe('chat service behind lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '1000', '--max-interval', '1000'] }),
    }));

    test('members, chat as the joined name, private messages, leaving on expiry', T, async () => {
        const url = fx.s.lighttpd.url;
        const alice = await joined(url, 'alice', 'lobby');
        const pa = poller(alice);
        const bob = await joined(url, 'bob', 'lobby');
        const pb = poller(bob);   // keeps bob's session alive until he stops
        const carol = await joined(url, 'carol', 'lobby');
        const pc = poller(carol);

        await pa.waitFor((m) => m.channel === '/members/lobby' && m.data.join() === 'alice,bob,carol');
        await pa.waitFor((m) => m.channel === '/rooms' && m.data.some((r) => r.room === 'lobby' && r.members === 3));
        const dup = await new BayeuxClient(url).start([]);
        const taken = await dup.publish('/service/members', { user: 'bob', room: 'lobby' });
        assert.equal(taken.error, '409:bob:name_taken');

        const sent = await bob.publish('/chat/lobby', { user: 'alice', chat: 'héllo <b>' });
        assert.equal(sent.successful, true);
        const heard = await pa.waitFor((m) => m.channel === '/chat/lobby' && m.data.chat === 'héllo <b>');
        assert.deepEqual(heard.data, { user: 'bob', chat: 'héllo <b>' });

        const pm = await bob.publish('/service/privatechat', { room: 'lobby', chat: 'psst', peer: 'alice' });
        assert.equal(pm.successful, true);
        const priv = await pa.waitFor((m) => m.data && m.data.chat === 'psst');
        assert.deepEqual(priv.data, { user: 'bob', chat: 'psst', scope: 'private', peer: ['alice'] });
        await sleep(300);
        assert.equal(pc.got.some((m) => m.data && m.data.chat === 'psst'), false, 'carol must not see it');

        // bob stops polling: his session expires and he leaves every list
        pb.stop = true;
        await pb.done;
        await pa.waitFor((m) => m.channel === '/members/lobby' && m.data.join() === 'alice,carol', 15000 * SLOW);
        await pa.waitFor((m) => m.channel === '/chat/lobby' && m.data.membership === 'leave' && m.data.user === 'bob');
        pa.stop = true;
        pc.stop = true;
        await Promise.all([pa.done, pc.done]);
    });

    testLighttpdHealthy(fx, T);
});
