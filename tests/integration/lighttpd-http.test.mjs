// HTTP-level behaviour of bayeux-fcgi behind lighttpd: encodings, batches,
// JSONP, chunked bodies and HTTP errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, post, request, jsonpGet, BayeuxClient, CookieJar, within, stillPendingAfter,
    uniqueChannel, assertJsonReply, assertCommonHeaders, assertHttpError, assertBrowserCookie, drain,
    CLIENT_ID_RE, PROMPT_MS, SLOW, testLighttpdHealthy,
} from './harness.mjs';

const MAX_BODY = 65536;
const T = { timeout: 60000 * SLOW };
const HS = { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling', 'callback-polling'] };
const JS_CT = /^text\/javascript;\s*charset=utf-8$/i;

function parseJsonp(text, cb) {
    // the exact reply is `cb([...])`; a leading `/**/` comment (a common guard
    // against content sniffing) and a trailing `;` are harmless JavaScript
    const t = text.trim().replace(/^\/\*\*\/\s*/, '').replace(/;$/, '');
    assert.ok(t.startsWith(`${cb}(`) && t.endsWith(')'), `body is ${cb}(...): ${text.slice(0, 200)}`);
    return JSON.parse(t.slice(cb.length + 1, -1));
}

describe('bayeux-fcgi behind lighttpd: HTTP, encodings, JSONP', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '8000', '--max-body', String(MAX_BODY)] }),
    }));
    const url = () => fx.s.lighttpd.url;
    const client = (opts) => new BayeuxClient(url(), opts);

    test('HTTP 400 for malformed JSON, [], non-object elements and an empty body', T, async () => {
        const bodies = [
            '[{"channel":"/meta/connect",',
            '{"channel":',
            '[{"channel":"/meta/handshake"}] trailing garbage',
            'not json at all',
            '[]',
            '[1]',
            '["/meta/handshake"]',
            '[{"channel":"/meta/handshake","version":"1.0"}, 3]',
            '[null]',
            '',
        ];
        for (const body of bodies) {
            const res = await post(url(), body, { cookieJar: new CookieJar() });
            assertHttpError(res, 400, `body ${JSON.stringify(body)}`);
        }
        const ok = await post(url(), [HS], { cookieJar: new CookieJar() });
        assertJsonReply(ok, 'handshake after bad requests');
        assert.equal(ok.json[0].successful, true);
    });

    test('HTTP 400 for GET without message, without jsonp, or with a bad callback', T, async () => {
        const msg = [HS];
        const cases = [
            [undefined, undefined, 'no parameters'],
            [undefined, 'cb', 'no message'],
            [msg, undefined, 'no jsonp'],
            [msg, '', 'empty callback'],
            [msg, 'a b', 'space'],
            [msg, 'alert(1)', 'parentheses'],
            [msg, 'x;y', 'semicolon'],
            [msg, 'a<b>', 'angle brackets'],
            [msg, 'a'.repeat(65), '65 chars'],
            ['[{"channel":', 'cb', 'malformed message'],
            ['[]', 'cb', 'empty batch'],
        ];
        for (const [m, cb, what] of cases) {
            const res = await jsonpGet(url(), m, cb, { cookieJar: new CookieJar() });
            assertHttpError(res, 400, `GET ${what}`);
        }
    });

    test('HTTP 405 with Allow: GET, POST for other methods', T, async () => {
        for (const method of ['PUT', 'DELETE', 'PATCH']) {
            const res = await request(url(), { method, body: JSON.stringify([HS]), cookieJar: new CookieJar() });
            assertHttpError(res, 405, method);
            assert.match(res.headers.allow || '', /^GET,\s*POST$/, `${method}: Allow header`);
        }
    });

    test('HTTP 413 above --max-body; a body just under it is accepted and delivered intact', T, async () => {
        const ch = uniqueChannel('/big');
        const a = await client().start([ch]);
        const b = await client().start([]);
        const base = JSON.stringify([{ channel: ch, clientId: b.clientId, data: '', id: 'big' }]);
        const big = 'x'.repeat(MAX_BODY - base.length - 100) + '\u00e9\u4e2d'; // non-ASCII survives too
        const under = JSON.stringify([{ channel: ch, clientId: b.clientId, data: big, id: 'big' }]);
        assert.ok(Buffer.byteLength(under) <= MAX_BODY);
        const res = await post(url(), under, { cookieJar: b.jar });
        assertJsonReply(res, 'publish under --max-body');
        assert.deepEqual(res.json, [{ id: 'big', channel: ch, successful: true }]);
        const got = await drain(a);
        assert.equal(got.length, 1);
        assert.equal(got[0].data, big, 'large payload delivered intact');

        const over = JSON.stringify([{ channel: ch, clientId: b.clientId, data: 'y'.repeat(MAX_BODY + 10), id: 'over' }]);
        const r413 = await post(url(), over, { cookieJar: b.jar });
        assertHttpError(r413, 413, 'body above --max-body');
        const r413c = await post(url() + '/', over, { cookieJar: b.jar, chunked: true });
        assertHttpError(r413c, 413, 'chunked body above --max-body');
        assert.deepEqual(await drain(a), [], 'the rejected publishes delivered nothing');
    });

    test('a single message object (not an array) is accepted', T, async () => {
        const jar = new CookieJar();
        const res = await post(url(), { ...HS, id: 'single' }, { cookieJar: jar });
        assertJsonReply(res, 'single-object handshake');
        assert.equal(res.json.length, 1);
        assert.equal(res.json[0].id, 'single');
        assert.equal(res.json[0].successful, true);
        const clientId = res.json[0].clientId;
        const ch = uniqueChannel('/single');
        const sub = await post(url(), { channel: '/meta/subscribe', clientId, subscription: ch, id: 's' }, { cookieJar: jar });
        assertJsonReply(sub, 'single-object subscribe');
        assert.deepEqual(sub.json, [{ id: 's', channel: '/meta/subscribe', subscription: ch, successful: true }]);
        const pub = await post(url(), { channel: ch, clientId, data: 7, id: 'p' }, { cookieJar: jar });
        assert.deepEqual(pub.json, [{ id: 'p', channel: ch, successful: true }]);
        const con = await post(url(), { channel: '/meta/connect', clientId, connectionType: 'long-polling', id: 'c' }, { cookieJar: jar });
        assertJsonReply(con, 'single-object connect');
        assert.deepEqual(con.json.filter((m) => m.channel === ch).map((m) => m.data), [7]);
    });

    test('JSON sent as text/plain or without Content-Type is treated as JSON', T, async () => {
        const r1 = await post(url(), JSON.stringify([HS]), { headers: { 'Content-Type': 'text/plain' }, cookieJar: new CookieJar() });
        assertJsonReply(r1, 'text/plain body');
        assert.equal(r1.json[0].successful, true);
        const r2 = await post(url(), JSON.stringify([HS]), { noContentType: true, cookieJar: new CookieJar() });
        assertJsonReply(r2, 'no Content-Type');
        assert.equal(r2.json[0].successful, true);
        const r3 = await post(url(), JSON.stringify([HS]), { headers: { 'Content-Type': 'application/json;charset=UTF-8' }, cookieJar: new CookieJar() });
        assertJsonReply(r3, 'application/json;charset=UTF-8');
    });

    test('form-encoded message= bodies, with and without jsonp', T, async () => {
        const jar = new CookieJar();
        const form = (msgs, extra = '') => 'message=' + encodeURIComponent(JSON.stringify(msgs)) + extra;
        const fh = { 'Content-Type': 'application/x-www-form-urlencoded' };
        const hs = await post(url(), form([{ ...HS, id: 'f1' }]), { headers: fh, cookieJar: jar });
        assertJsonReply(hs, 'form handshake');
        assert.equal(hs.json[0].id, 'f1');
        assert.match(hs.json[0].clientId, CLIENT_ID_RE);
        assertBrowserCookie(hs);
        const clientId = hs.json[0].clientId;
        const ch = uniqueChannel('/form');
        const sub = await post(url(), form([{ channel: '/meta/subscribe', clientId, subscription: ch, id: 'f2' }]), { headers: fh, cookieJar: jar });
        assertJsonReply(sub, 'form subscribe');
        assert.equal(sub.json[0].successful, true);
        // form + jsonp callback: a JavaScript reply
        const pub = await post(url(), form([{ channel: ch, clientId, data: { via: 'form' }, id: 'f3' }], '&jsonp=formcb'), { headers: fh, cookieJar: jar });
        assert.equal(pub.status, 200);
        assert.match(pub.headers['content-type'] || '', JS_CT);
        assertCommonHeaders(pub, 'form jsonp publish');
        assert.deepEqual(parseJsonp(pub.text, 'formcb'), [{ id: 'f3', channel: ch, successful: true }]);
        const con = await post(url(), form([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: 'f4' }]), { headers: fh, cookieJar: jar });
        assertJsonReply(con, 'form connect');
        assert.deepEqual(con.json.filter((m) => m.channel === ch), [{ channel: ch, data: { via: 'form' }, id: 'f3' }]);
        // the form value may also be a single object
        const single = await post(url(), 'message=' + encodeURIComponent(JSON.stringify({ ...HS, id: 'f5' })), { headers: fh, cookieJar: new CookieJar() });
        assertJsonReply(single, 'form single object');
        assert.equal(single.json[0].id, 'f5');
    });

    test('chunked request bodies (no Content-Length) on /cometd/handshake and /cometd/connect', T, async () => {
        const ch = uniqueChannel('/chunked');
        const jar = new CookieJar();
        const hs = await post(url() + '/handshake', [{ ...HS, id: '1' }], { cookieJar: jar, chunked: true });
        assertJsonReply(hs, 'chunked handshake');
        assert.equal(hs.json[0].successful, true);
        const a = new BayeuxClient(url(), { cookieJar: jar });
        a.clientId = hs.json[0].clientId;
        a.idSeq = 1;
        const sub = await a.send([{ channel: '/meta/subscribe', clientId: a.clientId, subscription: ch, id: '2' }], { path: '/', chunked: true });
        assert.equal(sub[0].successful, true);
        const first = await a.connect({ path: '/connect', chunked: true });
        assert.equal(first.reply.successful, true);
        assert.ok(first.elapsed < PROMPT_MS);
        const held = a.connect({ path: '/connect', chunked: true });
        assert.equal(await stillPendingAfter(held, 700), true, 'chunked connect is held');
        const b = await client().start([]);
        const data = { text: 'z'.repeat(20000) };
        const body = JSON.stringify([{ channel: ch, clientId: b.clientId, data, id: 'c1' }]);
        const pieces = [];
        for (let i = 0; i < body.length; i += 997) pieces.push(body.slice(i, i + 997)); // many chunks
        const pub = await post(url() + '/', body, { cookieJar: b.jar, chunked: pieces });
        assertJsonReply(pub, 'chunked publish');
        assert.deepEqual(pub.json, [{ id: 'c1', channel: ch, successful: true }]);
        const r = await within(held, PROMPT_MS, 'chunked held connect release');
        assert.deepEqual(r.messages, [{ channel: ch, data, id: 'c1' }]);
        const d = await a.send([{ channel: '/meta/disconnect', clientId: a.clientId, id: '9' }], { path: '/disconnect', chunked: true });
        assert.deepEqual(d, [{ id: '9', channel: '/meta/disconnect', successful: true }]);
    });

    test('batch: subscribe + publish in one POST', T, async () => {
        const ch = uniqueChannel('/batch');
        const a = await client().start([]);
        const watcher = await client().start([ch]);
        const res = await post(url(), [
            { channel: '/meta/subscribe', clientId: a.clientId, subscription: ch, id: 'b1' },
            { channel: ch, clientId: a.clientId, data: { n: 1 }, id: 'b2' },
        ], { cookieJar: a.jar });
        assertJsonReply(res, 'subscribe+publish batch');
        assert.deepEqual(res.json.find((m) => m.id === 'b1'), { id: 'b1', channel: '/meta/subscribe', subscription: ch, successful: true });
        assert.deepEqual(res.json.find((m) => m.id === 'b2' && 'successful' in m), { id: 'b2', channel: ch, successful: true });
        assert.equal(res.json.length, 2, `only the two replies (deliveries go through /meta/connect): ${res.text}`);
        const r = await a.connect();
        assert.ok(r.elapsed < PROMPT_MS);
        assert.deepEqual(r.messages, [{ channel: ch, data: { n: 1 }, id: 'b2' }], 'subscribed before the publish in the same batch');
        assert.deepEqual(await drain(watcher), [{ channel: ch, data: { n: 1 }, id: 'b2' }]);
    });

    test('Faye-style batch: connect + publish in one POST', T, async () => {
        const ch = uniqueChannel('/faye');
        const a = await client().start([ch]);
        const b = await client().start([ch]);
        const heldB = b.connect();
        // (1) connect with advice.timeout 0 + publish, as Faye sends its first connect
        const r1 = await post(url(), [
            { channel: '/meta/connect', clientId: a.clientId, connectionType: 'long-polling', id: 'fc1', advice: { timeout: 0 } },
            { channel: ch, clientId: a.clientId, data: 'one', id: 'fp1' },
        ], { cookieJar: a.jar });
        assertJsonReply(r1, 'connect(timeout 0)+publish');
        assert.ok(r1.elapsed < PROMPT_MS, `answered at once (${r1.elapsed} ms)`);
        assert.equal(r1.json.find((m) => m.channel === '/meta/connect' && m.id === 'fc1').successful, true);
        assert.deepEqual(r1.json.find((m) => m.id === 'fp1' && 'successful' in m), { id: 'fp1', channel: ch, successful: true });
        const inline = r1.json.filter((m) => m.channel === ch && 'data' in m);
        const later = await drain(a);
        assert.deepEqual([...inline, ...later], [{ channel: ch, data: 'one', id: 'fp1' }], 'the publisher gets its message exactly once');
        const rb = await within(heldB, PROMPT_MS, 'other subscriber release');
        assert.deepEqual(rb.messages, [{ channel: ch, data: 'one', id: 'fp1' }]);

        // (2) a long-poll connect + publish: the publish is processed at once and
        //     releases the connect of the same batch (a subscriber of the channel).
        const r2 = await post(url(), [
            { channel: '/meta/connect', clientId: a.clientId, connectionType: 'long-polling', id: 'fc2' },
            { channel: ch, clientId: a.clientId, data: 'two', id: 'fp2' },
        ], { cookieJar: a.jar });
        assertJsonReply(r2, 'connect+publish');
        assert.ok(r2.elapsed < PROMPT_MS, `not held (${r2.elapsed} ms)`);
        assert.equal(r2.json.find((m) => m.channel === '/meta/connect' && m.id === 'fc2').successful, true);
        assert.deepEqual(r2.json.find((m) => m.id === 'fp2' && 'successful' in m), { id: 'fp2', channel: ch, successful: true });
        assert.deepEqual(r2.json.filter((m) => m.channel === ch && 'data' in m), [{ channel: ch, data: 'two', id: 'fp2' }]);
        assert.deepEqual(await drain(b), [{ channel: ch, data: 'two', id: 'fp2' }]);
    });

    test('JSONP callback-polling: a whole session over GET', T, async () => {
        const ch = uniqueChannel('/jsonp');
        const jar = new CookieJar();
        const hs = await jsonpGet(url(), [{ ...HS, id: 'j1' }], 'cb_1.x-Y');
        assert.equal(hs.status, 200);
        assert.match(hs.headers['content-type'] || '', JS_CT);
        assertCommonHeaders(hs, 'jsonp handshake');
        const hsr = parseJsonp(hs.text, 'cb_1.x-Y');
        assert.equal(hsr[0].id, 'j1');
        assert.equal(hsr[0].successful, true);
        assert.deepEqual(hsr[0].supportedConnectionTypes, ['long-polling', 'callback-polling']);

        const a = new BayeuxClient(url(), { cookieJar: jar, transport: 'callback-polling' });
        assert.equal((await a.handshake()).successful, true);
        assert.equal((await a.subscribe(ch)).successful, true);
        const first = await a.connect();
        assert.equal(first.reply.successful, true);
        assert.match(a.lastResponse.headers['content-type'] || '', JS_CT);
        const held = a.connect();
        assert.equal(await stillPendingAfter(held, 700), true, 'callback-polling connect is held');
        const b = await client().start([]);
        await b.publish(ch, { via: 'jsonp' }, { id: 'jp' });
        const r = await within(held, PROMPT_MS, 'jsonp connect release');
        assert.deepEqual(r.messages, [{ channel: ch, data: { via: 'jsonp' }, id: 'jp' }]);
        assert.equal((await a.publish(ch, 'from-jsonp')).successful, true);
        assert.deepEqual((await a.connect({ timeout: 0 })).messages.map((m) => m.data), ['from-jsonp']);
        assert.equal((await a.disconnect()).successful, true);
    });

    test('JSONP callback names: 64 characters of [A-Za-z0-9._-] are accepted', T, async () => {
        const cb = ('Az09._-'.repeat(10) + 'abcdefgh').slice(0, 64);
        assert.equal(cb.length, 64);
        const res = await jsonpGet(url(), [HS], cb);
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'] || '', JS_CT);
        assert.equal(parseJsonp(res.text, cb)[0].successful, true);
    });

    testLighttpdHealthy(fx, T);
});
