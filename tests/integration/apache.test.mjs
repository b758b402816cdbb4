// The core of the protocol through Apache 2.4 (mpm_event + mod_proxy_fcgi)
// in front of a standalone responder (--listen 127.0.0.1:port).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startApache, startResponder, useServers, post, request, jsonpGet, BayeuxClient, CookieJar, within,
    stillPendingAfter, uniqueChannel, assertJsonReply, assertCommonHeaders, assertHttpError, assertBrowserCookie,
    browserCookie, assertBayeuxError, drain, sanitizerReports, SESSION_ADVICE, PROMPT_MS, SLOW, assertHandshakeReply,
} from './harness.mjs';

const TIMEOUT = 3000;
const T = { timeout: 60000 * SLOW };
const HS = { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] };

describe('bayeux-fcgi behind Apache mod_proxy_fcgi', () => {
    const fx = useServers(async () => {
        const responder = await startResponder({ args: ['--timeout', String(TIMEOUT), '--max-interval', '10000'] });
        const apache = await startApache({ backendPort: responder.port, timeoutSec: 60 });
        return { apache, responder };
    });
    const url = () => fx.s.apache.url;
    const client = () => new BayeuxClient(url());

    test('handshake: reply shape and BAYEUX_BROWSER cookie', T, async () => {
        const jar = new CookieJar();
        const res = await post(url(), [{ ...HS, id: 'a1' }], { cookieJar: jar });
        assertJsonReply(res, 'handshake via Apache');
        const r = res.json[0];
        assertHandshakeReply(r, 'a1', TIMEOUT);
        assertBrowserCookie(res);
        const again = await post(url() + '/handshake', [{ ...HS, id: 'a2' }], { cookieJar: jar });
        assertJsonReply(again);
        assert.equal(browserCookie(again), undefined);
    });

    test('subscribe, publish, receive: a held connect is released by the publish', T, async () => {
        const ch = uniqueChannel('/ap');
        const a = await client().start([ch]);
        const b = await client().start([]);
        const held = a.connect();
        assert.equal(await stillPendingAfter(held, 1000), true, 'held while nothing is queued');
        const t0 = performance.now();
        assert.deepEqual(await b.publish(ch, { hello: 'apache' }, { id: 'p1' }), { id: 'p1', channel: ch, successful: true });
        const r = await within(held, PROMPT_MS, 'release after publish');
        assert.ok(performance.now() - t0 < PROMPT_MS);
        assert.equal(r.reply.successful, true);
        assert.deepEqual(r.messages, [{ channel: ch, data: { hello: 'apache' }, id: 'p1' }]);
        assert.deepEqual(await drain(b), []);
    });

    test('connect timeout: held for the server timeout, then answered', T, async () => {
        const a = await client().start([uniqueChannel('/apto')]);
        const r = await a.connect();
        assert.ok(r.elapsed >= 0.8 * TIMEOUT, `held ${r.elapsed} ms`);
        assert.ok(r.elapsed < TIMEOUT + 3000 * SLOW, `answered after ${r.elapsed} ms`);
        assert.equal(r.reply.successful, true);
        assert.deepEqual(r.messages, []);
    });

    test('chunked request bodies on /cometd/handshake and /cometd/connect (as the CometD client sends them)', T, async () => {
        const ch = uniqueChannel('/apchunk');
        const jar = new CookieJar();
        const hs = await post(url() + '/handshake', [{ ...HS, id: '1' }], { cookieJar: jar, chunked: true });
        assertJsonReply(hs, 'chunked handshake via Apache');
        const a = new BayeuxClient(url(), { cookieJar: jar });
        a.clientId = hs.json[0].clientId;
        a.idSeq = 1;
        const sub = await a.send([{ channel: '/meta/subscribe', clientId: a.clientId, subscription: ch, id: '2' }], { path: '/', chunked: true });
        assert.equal(sub[0].successful, true);
        assert.equal((await a.connect({ path: '/connect', chunked: true })).reply.successful, true);
        const held = a.connect({ path: '/connect', chunked: true });
        assert.equal(await stillPendingAfter(held, 500), true);
        const b = await client().start([]);
        await b.publish(ch, 'chunked-apache');
        const r = await within(held, PROMPT_MS, 'release');
        assert.deepEqual(r.messages.map((m) => m.data), ['chunked-apache']);
    });

    test('JSONP callback-polling', T, async () => {
        const ch = uniqueChannel('/apjsonp');
        const hs = await jsonpGet(url(), [{ ...HS, id: 'j' }], 'jcb');
        assert.equal(hs.status, 200);
        assert.match(hs.headers['content-type'] || '', /^text\/javascript;\s*charset=utf-8$/i);
        assertCommonHeaders(hs, 'jsonp via Apache');
        assert.ok(Array.isArray(hs.payload), `jcb([...]): ${hs.text}`);
        assert.equal(hs.payload[0].successful, true);
        const a = new BayeuxClient(url(), { transport: 'callback-polling' });
        await a.start([ch]);
        const held = a.connect();
        assert.equal(await stillPendingAfter(held, 500), true);
        await (await client().start([])).publish(ch, 'via-jsonp');
        const r = await within(held, PROMPT_MS, 'jsonp release');
        assert.deepEqual(r.messages.map((m) => m.data), ['via-jsonp']);
        const bad = await jsonpGet(url(), [HS], 'bad callback()');
        assertHttpError(bad, 400, 'invalid callback');
    });

    test('unknown clientId', T, async () => {
        const res = await post(url(), [{ channel: '/meta/connect', clientId: 'f'.repeat(32), connectionType: 'long-polling', id: 'u' }], { cookieJar: new CookieJar() });
        assertJsonReply(res);
        assertBayeuxError(res.json[0], { id: 'u', channel: '/meta/connect', error: '402::session_unknown', advice: SESSION_ADVICE });
    });

    test('malformed JSON, empty batch and PUT are HTTP errors', T, async () => {
        assertHttpError(await post(url(), '[{"channel":', { cookieJar: new CookieJar() }), 400, 'malformed JSON');
        assertHttpError(await post(url(), '[]', { cookieJar: new CookieJar() }), 400, 'empty batch');
        assertHttpError(await post(url(), '', { cookieJar: new CookieJar() }), 400, 'empty body');
        const put = await request(url(), { method: 'PUT', body: '[]' });
        assertHttpError(put, 405, 'PUT');
        assert.match(put.headers.allow || '', /^GET,\s*POST$/);
    });

    test('SIGTERM: held connect answered with reconnect "retry", exit status 0, no sanitizer reports', T, async () => {
        const a = await client().start([uniqueChannel('/apterm')]);
        const held = a.connect({ timeout: 60000 }); // capped at the server's 3 s: SIGTERM within 200 ms
        assert.equal(await stillPendingAfter(held, 200), true);
        process.kill(fx.s.responder.pid, 'SIGTERM');
        const r = await within(held, 5000 * SLOW, 'held connect answered on SIGTERM');
        assert.ok(r.elapsed < TIMEOUT, `answered because of SIGTERM, not the timeout (${r.elapsed} ms)`);
        assert.ok(r.reply && r.reply.advice, `advice in ${JSON.stringify(r.all)}`);
        assert.equal(r.reply.advice.reconnect, 'retry');
        const exit = await within(fx.s.responder.child.exited, 10000 * SLOW, 'responder exit');
        assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
        assert.deepEqual(sanitizerReports(fx.s.responder.log()), []);
    });
});
