// Bayeux over https: TLS is lighttpd's (mod_openssl, a self-signed
// certificate made at start); the responder learns of it from the FastCGI
// parameter HTTPS=on and marks the BAYEUX_BROWSER cookie Secure, which it
// must not do over plain http.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, BayeuxClient, CookieJar, post, request, within, stillPendingAfter,
    uniqueChannel, browserCookie, assertBrowserCookie, SLOW,
} from './harness.mjs';

const T = { timeout: 60000 * SLOW };

/** A handshake by hand; returns the HTTP response. */
function handshake(url, agent) {
    return post(url, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' }],
        { agent, cookieJar: new CookieJar() });
}

const attrs = (cookie) => cookie.split(';').slice(1).map((a) => a.trim().toLowerCase());

describe('Bayeux over https through lighttpd mod_openssl', () => {
    const fx = useServers(async () => ({
        tls: await startLighttpd({ tls: true, responderArgs: ['--timeout', '20000'] }),
        plain: await startLighttpd({ responderArgs: ['--timeout', '20000'] }),
    }));

    test('the endpoint is https with the generated certificate (verified against it)', T, async () => {
        const srv = fx.s.tls;
        assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+\/cometd$/);
        assert.match(srv.ca, /BEGIN CERTIFICATE/);
        const page = await request(`${srv.origin}/`, { agent: srv.agent });
        assert.equal(page.status, 200, 'a static file over https');
        // a client that does not trust the certificate is refused by TLS itself
        await assert.rejects(request(`${srv.origin}/`), /self[- ]signed|certificate/i);
    });

    test('handshake, subscribe, publish and a held connect answered over https', T, async () => {
        const srv = fx.s.tls;
        const ch = uniqueChannel('/tls');
        const sub = await new BayeuxClient(srv.url, { agent: srv.agent }).start([ch]);
        const pub = await new BayeuxClient(srv.url, { agent: srv.agent }).start([]);
        const held = sub.connect();
        assert.equal(await stillPendingAfter(held, 300), true, 'the connect is held');
        const ack = await pub.publish(ch, { text: 'over tls' });
        assert.equal(ack.successful, true, JSON.stringify(ack));
        const r = await within(held, 5000 * SLOW, 'the held connect answered by the publish');
        assert.equal(r.reply.successful, true);
        assert.deepEqual(r.messages.map((m) => m.data), [{ text: 'over tls' }]);
        assert.equal(r.messages[0].channel, ch);
        assert.equal((await sub.disconnect()).successful, true);
        assert.equal((await pub.disconnect()).successful, true);
    });

    test('the BAYEUX_BROWSER cookie carries Secure over https', T, async () => {
        const res = await handshake(fx.s.tls.url, fx.s.tls.agent);
        assert.equal(res.status, 200);
        assert.equal(res.json[0].successful, true);
        assertBrowserCookie(res);
        assert.ok(attrs(browserCookie(res)).includes('secure'), `Secure: ${browserCookie(res)}`);
    });

    test('and not over plain http', T, async () => {
        const res = await handshake(fx.s.plain.url);
        assert.equal(res.status, 200);
        assertBrowserCookie(res);
        assert.ok(!attrs(browserCookie(res)).includes('secure'), `no Secure: ${browserCookie(res)}`);
    });

    test('both responders ran without restarts or sanitizer reports', T, async () => {
        for (const srv of [fx.s.tls, fx.s.plain]) {
            assert.equal(srv.currentResponderPid(), srv.responderPid, 'no respawn');
            const info = await srv.stop();
            assert.deepEqual(info.sanitizerReports, []);
            assert.equal(info.responderGone, true);
        }
    });
});
