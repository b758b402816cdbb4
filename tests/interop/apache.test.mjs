// The core of the interop suite behind Apache 2.4 (mpm_event + mod_proxy_fcgi)
// in front of a standalone responder: handshake, subscribe, publish, receive
// with the CometD 9 and Faye 1.4.3 clients, and the two mixed directions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApache, startResponder, useServers, uniqueChannel, sanitizerReports, within, SLOW,
    CLIENT_ID_RE } from '../integration/harness.mjs';
import { T, cometdStart, cometdSubscribe, cometdPublish, cometdStop, fayeClient, fayeSubscribe, fayePublish,
    fayeStop, inbox } from './lib.mjs';

describe('interop behind Apache mod_proxy_fcgi: CometD 9 and Faye 1.4.3 clients', () => {
    const fx = useServers(async () => {
        const responder = await startResponder({ args: ['--timeout', '5000'] });
        const apache = await startApache({ backendPort: responder.port, timeoutSec: 60 });
        return { apache, responder };
    });
    const url = () => fx.s.apache.url;

    test('CometD via Apache: handshake, subscribe, publish, receive', T, async () => {
        const c = await cometdStart(url());
        try {
            assert.match(c.handshakeReply.clientId, CLIENT_ID_RE);
            const ch = uniqueChannel('/interop/apache');
            const box = inbox('cometd');
            await cometdSubscribe(c, ch, (m) => box.push(m));
            await cometdPublish(c, ch, { n: 1, text: 'héllo 🌍 中文' });
            assert.deepEqual((await box.waitFor((m) => m.data.n === 1, 'own message')).data, { n: 1, text: 'héllo 🌍 中文' });
            await cometdPublish(c, ch, { n: 2 });
            await box.waitFor((m) => m.data.n === 2, 'second message over the long poll');
            assert.equal(box.items.length, 2);
            assert.ok(!c.advices.some((a) => a['multiple-clients']));
        } finally { await cometdStop(c); }
    });

    test('Faye via Apache: handshake, subscribe, publish, receive', T, async () => {
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/apache');
            const box = inbox('faye');
            await fayeSubscribe(f, ch, (d) => box.push(d));
            assert.match(f._dispatcher.clientId, CLIENT_ID_RE);
            await fayePublish(f, ch, { n: 1, text: 'héllo 🌍 中文' });
            assert.deepEqual(await box.waitFor((d) => d.n === 1, 'own message'), { n: 1, text: 'héllo 🌍 中文' });
            await fayePublish(f, ch, { n: 2 });
            await box.waitFor((d) => d.n === 2, 'second message');
            assert.equal(box.items.length, 2);
        } finally { await fayeStop(f); }
    });

    test('via Apache: a Faye publisher reaches a CometD subscriber, and the reverse', T, async () => {
        const c = await cometdStart(url());
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/apache-cross');
            const cbox = inbox('cometd'); const fbox = inbox('faye');
            await cometdSubscribe(c, ch, (m) => cbox.push(m));
            await fayeSubscribe(f, ch, (d) => fbox.push(d));
            await fayePublish(f, ch, { from: 'faye' });
            await cometdPublish(c, ch, { from: 'cometd' });
            await cbox.waitFor((m) => m.data.from === 'faye', 'faye -> cometd');
            await fbox.waitFor((d) => d.from === 'cometd', 'cometd -> faye');
        } finally { await fayeStop(f); await cometdStop(c); }
    });

    test('the responder stops cleanly (status 0, no sanitizer reports)', T, async () => {
        const exit = await within(fx.s.responder.stop(), 15000 * SLOW, 'responder stop');
        assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
        assert.deepEqual(sanitizerReports(fx.s.responder.log()), []);
    });
});
