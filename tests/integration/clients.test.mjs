// The official CometD JavaScript client (npm `cometd` + `cometd-nodejs-client`)
// and the Faye Node client against bayeux-fcgi behind lighttpd.
//
// cometd-nodejs-client keeps ONE cookie jar per host for the whole process,
// so this process runs at most one CometD client at a time; a second,
// simultaneous CometD client runs in a child process (cometd-child.mjs) and
// so has its own BAYEUX_BROWSER cookie.  Faye keeps a jar per client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapt } from 'cometd-nodejs-client';
import { CometD } from 'cometd';
import faye from 'faye';
import { startLighttpd, useServers, within, sleep, uniqueChannel, SLOW, testLighttpdHealthy,
} from './harness.mjs';

adapt();

const here = path.dirname(fileURLToPath(import.meta.url));
const T = { timeout: 60000 * SLOW };
const WAIT = 10000 * SLOW; // bound on each client step

// ---- CometD helpers (promises over the callback API)

function cometdStart(url, advices) {
    const cometd = new CometD();
    cometd.configure({ url, logLevel: 'warn' });
    cometd.addListener('/meta/connect', (reply) => { if (reply.advice) advices.push(reply.advice); });
    const hs = new Promise((resolve, reject) => {
        cometd.handshake((reply) => (reply.successful ? resolve(reply) : reject(new Error(`CometD handshake: ${JSON.stringify(reply)}`))));
    });
    return { cometd, hs };
}

function cometdSubscribe(cometd, channel, onMessage) {
    return new Promise((resolve, reject) => {
        cometd.subscribe(channel, onMessage, (reply) => (reply.successful ? resolve(reply) : reject(new Error(`CometD subscribe: ${JSON.stringify(reply)}`))));
    });
}

function cometdPublish(cometd, channel, data) {
    return new Promise((resolve, reject) => {
        cometd.publish(channel, data, (reply) => (reply.successful ? resolve(reply) : reject(new Error(`CometD publish: ${JSON.stringify(reply)}`))));
    });
}

function cometdDisconnect(cometd) {
    if (cometd.isDisconnected()) return Promise.resolve();
    return within(new Promise((resolve) => cometd.disconnect(() => resolve())), WAIT, 'CometD disconnect').catch(() => {});
}

// ---- Faye helpers

function fayeClient(url) {
    // retry: seconds between reconnect attempts; timeout: seconds before a
    // request is considered lost (must exceed the server's long-poll timeout)
    return new faye.Client(url, { timeout: 30, retry: 1 });
}

function fayeSubscribe(client, channel, onMessage) {
    const sub = client.subscribe(channel, onMessage);
    return new Promise((resolve, reject) => sub.then(resolve, (e) => reject(new Error(`Faye subscribe: ${JSON.stringify(e)}`))));
}

function fayePublish(client, channel, data) {
    const pub = client.publish(channel, data);
    return new Promise((resolve, reject) => pub.then(resolve, (e) => reject(new Error(`Faye publish: ${JSON.stringify(e)}`))));
}

async function fayeDisconnect(client) {
    try { await within(Promise.resolve(client.disconnect()), WAIT, 'Faye disconnect'); } catch { /* best effort */ }
}

/** A queue of received messages with an awaitable "next". */
function inbox() {
    const items = [];
    const waiters = [];
    return {
        items,
        push(m) {
            items.push(m);
            while (waiters.length) waiters.shift()();
        },
        async waitFor(pred, what) {
            const end = Date.now() + WAIT;
            for (;;) {
                const hit = items.find(pred);
                if (hit) return hit;
                if (Date.now() > end) throw new Error(`${what}: not received within ${WAIT} ms; got ${JSON.stringify(items)}`);
                await Promise.race([new Promise((r) => waiters.push(r)), sleep(100)]);
            }
        },
    };
}

// ---- a CometD client in a child process

function cometdChild(url) {
    const child = fork(path.join(here, 'cometd-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const events = inbox();
    child.on('message', (m) => events.push(m));
    const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    return {
        child,
        events,
        exited,
        async op(msg, reply, what) {
            const before = events.items.length;
            child.send(msg);
            const got = await events.waitFor((m, i) => (m.op === reply || m.op === 'error') && events.items.indexOf(m) >= before, what);
            if (got.op === 'error') throw new Error(`${what}: ${got.error}`);
            return got;
        },
        async start() {
            await events.waitFor((m) => m.op === 'ready', 'child ready');
            return this.op({ op: 'start', url }, 'started', 'child handshake');
        },
        async stop() {
            if (child.exitCode === null && child.signalCode === null) {
                try { await this.op({ op: 'stop' }, 'stopped', 'child disconnect'); } catch { /* kill below */ }
                const r = await Promise.race([exited, sleep(3000).then(() => null)]);
                if (!r) child.kill('SIGKILL');
            }
        },
    };
}

describe('CometD and Faye npm clients through lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '5000'] }),
    }));
    const url = () => fx.s.lighttpd.url;

    test('CometD JavaScript client: handshake, subscribe, publish, receive', T, async () => {
        const advices = [];
        const { cometd, hs } = cometdStart(url(), advices);
        try {
            const reply = await within(hs, WAIT, 'CometD handshake');
            assert.match(reply.clientId, /^[0-9a-f]{32,}$/i);
            const ch = uniqueChannel('/cometd-js');
            const box = inbox();
            await within(cometdSubscribe(cometd, ch, (m) => box.push(m)), WAIT, 'CometD subscribe');
            await within(cometdPublish(cometd, ch, { chat: 'hello from cometd', n: 1 }), WAIT, 'CometD publish');
            const m = await box.waitFor((x) => x.data && x.data.n === 1, 'CometD own message');
            assert.deepEqual(m.data, { chat: 'hello from cometd', n: 1 });
            assert.equal(m.channel, ch);
            // a second round trip over the long poll
            await within(cometdPublish(cometd, ch, { n: 2 }), WAIT, 'CometD publish 2');
            await box.waitFor((x) => x.data && x.data.n === 2, 'CometD second message');
            assert.equal(box.items.length, 2, 'each message once');
        } finally {
            await cometdDisconnect(cometd);
        }
        assert.ok(!advices.some((a) => a['multiple-clients']), `no multiple-clients advice: ${JSON.stringify(advices)}`);
    });

    test('Faye client: handshake, subscribe, publish, receive', T, async () => {
        const client = fayeClient(url());
        try {
            const ch = uniqueChannel('/faye-js');
            const box = inbox();
            await within(fayeSubscribe(client, ch, (m) => box.push(m)), WAIT, 'Faye subscribe');
            assert.match(client._dispatcher.clientId, /^[0-9a-f]{32,}$/i);
            await within(fayePublish(client, ch, { chat: 'hello from faye', n: 1 }), WAIT, 'Faye publish');
            const m = await box.waitFor((x) => x.n === 1, 'Faye own message');
            assert.deepEqual(m, { chat: 'hello from faye', n: 1 });
            await within(fayePublish(client, ch, { n: 2 }), WAIT, 'Faye publish 2');
            await box.waitFor((x) => x.n === 2, 'Faye second message');
            assert.equal(box.items.length, 2, 'each message once');
        } finally {
            await fayeDisconnect(client);
        }
    });

    test('a Faye publisher reaches a CometD subscriber', T, async () => {
        const { cometd, hs } = cometdStart(url(), []);
        const fc = fayeClient(url());
        try {
            await within(hs, WAIT, 'CometD handshake');
            const ch = uniqueChannel('/cross');
            const box = inbox();
            await within(cometdSubscribe(cometd, ch, (m) => box.push(m)), WAIT, 'CometD subscribe');
            await within(fayePublish(fc, ch, { from: 'faye' }), WAIT, 'Faye publish');
            const m = await box.waitFor((x) => x.data && x.data.from === 'faye', 'Faye -> CometD');
            assert.equal(m.channel, ch);
        } finally {
            await fayeDisconnect(fc);
            await cometdDisconnect(cometd);
        }
    });

    test('a CometD publisher reaches a Faye subscriber', T, async () => {
        const { cometd, hs } = cometdStart(url(), []);
        const fc = fayeClient(url());
        try {
            const ch = uniqueChannel('/cross');
            const box = inbox();
            await within(fayeSubscribe(fc, ch, (m) => box.push(m)), WAIT, 'Faye subscribe');
            await within(hs, WAIT, 'CometD handshake');
            await within(cometdPublish(cometd, ch, { from: 'cometd' }), WAIT, 'CometD publish');
            await box.waitFor((x) => x.from === 'cometd', 'CometD -> Faye');
        } finally {
            await fayeDisconnect(fc);
            await cometdDisconnect(cometd);
        }
    });

    test('two CometD clients, each with its own cookies (one in a child process), long-poll side by side', T, async () => {
        const advices = [];
        const { cometd, hs } = cometdStart(url(), advices);
        const other = cometdChild(url());
        try {
            await within(hs, WAIT, 'CometD handshake');
            await other.start();
            const ch = uniqueChannel('/two');
            const box = inbox();
            await within(cometdSubscribe(cometd, ch, (m) => box.push(m)), WAIT, 'subscribe here');
            const sub = await other.op({ op: 'subscribe', channel: ch }, 'subscribed', 'child subscribe');
            assert.equal(sub.reply.successful, true);
            await sleep(500); // both are long-polling now
            const pub = await other.op({ op: 'publish', channel: ch, data: { from: 'child' } }, 'published', 'child publish');
            assert.equal(pub.reply.successful, true);
            await box.waitFor((x) => x.data && x.data.from === 'child', 'child -> here');
            await within(cometdPublish(cometd, ch, { from: 'parent' }), WAIT, 'publish here');
            await other.events.waitFor((m) => m.op === 'message' && m.data.from === 'parent', 'here -> child');
            const childAdvices = other.events.items.filter((m) => m.op === 'advice').map((m) => m.advice);
            assert.ok(![...advices, ...childAdvices].some((a) => a['multiple-clients']),
                `separate cookie jars: no multiple-clients advice (${JSON.stringify([advices, childAdvices])})`);
        } finally {
            await other.stop();
            await cometdDisconnect(cometd);
        }
    });

    testLighttpdHealthy(fx, T);
});
