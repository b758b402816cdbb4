// Security through lighttpd: unguessable clientIds that no other session
// sees, the cookie's flags over http and https, /meta refused, the caching
// and sniffing headers on every kind of reply, cross-origin requests (off,
// allowed, preflighted), roles from --auth-file, --auth-required, the
// docs/security.md example policy for the chat, the CometD client sending
// ext.auth, and the start refused on bad security files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
    startLighttpd, useServers, testLighttpdHealthy, tlsAvailable, makeTempDir, freePort,
    BayeuxClient, CookieJar, request, post, jsonpGet, sleep, uniqueChannel, SLOW, TOP_SRCDIR,
    BAYEUX_FCGI, assertCommonHeaders, assertHttpError, assertBayeuxError, browserCookie,
    assertBrowserCookie,
} from './harness.mjs';
import {
    cometdClient, cometdHandshake, cometdSubscribe, cometdPublish, cometdStop, WAIT,
} from '../interop/lib.mjs';

const T = { timeout: 120000 * SLOW };
const MEMBER = 'member-secret-7f3a9c1e5b2d4f60';
const ADMIN = 'admin-secret-0b1c2d3e4f5a6b7c8d';
const DENIED = { error: '403::handshake_denied', advice: { reconnect: 'none' } };
const EVIL = 'http://evil.example';
const APP = 'http://app.example:3000';

/** The example policy of docs/security.md (the ```policy block), so the doc cannot rot. */
function examplePolicy() {
    const md = fs.readFileSync(path.join(TOP_SRCDIR, 'docs', 'security.md'), 'utf8');
    const m = /```policy\n([\s\S]*?)```/.exec(md);
    assert.ok(m, 'docs/security.md has a ```policy block');
    return m[1];
}

/** Writes the files a group needs into a fresh directory (mode 0600 each). */
async function securityFiles(files) {
    const dir = await makeTempDir('bayeux-sec-');
    const out = { dir };
    for (const [name, text] of Object.entries(files)) {
        out[name] = path.join(dir, name);
        fs.writeFileSync(out[name], text, { mode: 0o600 });
    }
    return out;
}

/** A removable pseudo-server for useServers: the temp dir of the files. */
const filesHolder = (f) => ({ dir: f.dir, stop() {}, logs: () => '' });

/** One handshake (long-polling) with these extra fields; returns { reply, res }. */
async function handshake(url, extra = {}, opts = {}) {
    const msg = { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1', ...extra };
    const res = await post(url, [msg], opts);
    return { reply: Array.isArray(res.json) ? res.json[0] : undefined, res };
}

/** A started client (handshake with `ext`, subscriptions, first connect). */
async function started(url, ext, subs = []) {
    const c = new BayeuxClient(url);
    const hs = await c.handshake(ext ? { ext } : {});
    assert.equal(hs.successful, true, JSON.stringify(hs));
    for (const s of subs) {
        const r = await c.subscribe(s);
        assert.equal(r.successful, true, `subscribe ${s}: ${JSON.stringify(r)}`);
    }
    const first = await c.connect();
    assert.equal(first.reply.successful, true);
    return c;
}

/** Every response body a client gets from now on, as text. */
function recordTexts(client) {
    const texts = [];
    const send = client.send.bind(client);
    client.send = async (...a) => {
        try { return await send(...a); } finally { if (client.lastResponse) texts.push(client.lastResponse.text); }
    };
    return texts;
}

// ---------------------------------------------------------------------------

describe('security defaults behind lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '3000', '--max-body', '65536'] }),
        ...(tlsAvailable() ? { tls: await startLighttpd({ tls: true, responderArgs: ['--timeout', '3000'] }) } : {}),
    }));

    test('1,000 handshakes: 128-bit hex clientIds, all distinct, no shared prefix, unlike the cookies', T, async () => {
        const url = fx.s.lighttpd.url;
        const ids = [], cookies = [];
        for (let i = 0; i < 1000; i += 50) {
            const batch = await Promise.all(Array.from({ length: 50 }, () => handshake(url, {}, { cookieJar: new CookieJar() })));
            for (const { reply, res } of batch) {
                assert.equal(reply.successful, true, JSON.stringify(reply));
                ids.push(reply.clientId);
                cookies.push(assertBrowserCookie(res));
            }
        }
        for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/, 'clientId: 32 lower-case hex digits');
        assert.equal(new Set(ids).size, 1000, 'every clientId distinct');
        // a counter or a clock would give shared prefixes; 48 random bits do not collide here
        assert.equal(new Set(ids.map((id) => id.slice(0, 12))).size, 1000, 'no two share 12 leading digits');
        for (let pos = 0; pos < 32; pos++) {
            assert.equal(new Set(ids.map((id) => id[pos])).size, 16, `digit ${pos} takes every value`);
        }
        assert.equal(new Set(cookies).size, 1000, 'every BAYEUX_BROWSER distinct');
        const idSet = new Set(ids);
        assert.ok(cookies.every((c) => !idSet.has(c)), 'no cookie value is a clientId');
    });

    test('no publisher clientId in anything another session receives', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/sec');
        const room = `r${process.pid}`;
        const reader = await started(url, null, [ch, `/chat/${room}`, `/members/${room}`, '/rooms']);
        const texts = recordTexts(reader);
        const writer = await started(url, null, [`/chat/${room}`]);
        assert.equal((await reader.publish('/service/members', { user: 'reader', room })).successful, true);
        assert.equal((await writer.publish('/service/members', { user: 'writer', room })).successful, true);
        assert.equal((await writer.publish(ch, { text: 'plain' }, { id: 'w1' })).successful, true);
        assert.equal((await writer.publish(`/chat/${room}`, { chat: 'hi' })).successful, true);
        assert.equal((await writer.publish('/service/privatechat', { room, chat: 'psst', peer: 'reader' })).successful, true);
        const got = [];
        for (let i = 0; i < 10 && !got.some((m) => m.data && m.data.chat === 'psst'); i++) got.push(...(await reader.connect()).messages);
        const plain = got.find((m) => m.channel === ch);
        assert.ok(plain, `the plain publish arrived: ${JSON.stringify(got).slice(0, 500)}`);
        assert.deepEqual(Object.keys(plain).sort(), ['channel', 'data', 'id'], 'a delivery carries channel, data, id only');
        assert.ok(got.some((m) => m.channel === `/members/${room}`), 'member list arrived');
        assert.ok(got.some((m) => m.data && m.data.chat === 'psst'), 'private message arrived');
        const all = texts.join('\n');
        assert.ok(all.length > 0);
        assert.ok(!all.includes(writer.clientId), 'the writer\'s clientId appears in nothing the reader got');
        const status = await request(`${url}/status`);
        assert.ok(!status.text.includes(writer.clientId) && !status.text.includes(reader.clientId), 'nor in /cometd/status');
        await reader.disconnect();
        await writer.disconnect();
    });

    test('the BAYEUX_BROWSER cookie is HttpOnly, and Secure only over https', T, async (t) => {
        const { res } = await handshake(fx.s.lighttpd.url);
        const plain = browserCookie(res);
        assertBrowserCookie(res);
        assert.ok(!/;\s*Secure/i.test(plain), `no Secure over http: ${plain}`);
        if (!fx.s.tls) {
            t.skip('lighttpd mod_openssl or openssl not installed');
            return;
        }
        const tls = await handshake(fx.s.tls.url, {}, { agent: fx.s.tls.agent });
        assert.equal(tls.reply.successful, true);
        const secure = browserCookie(tls.res);
        assertBrowserCookie(tls.res);
        assert.ok(/;\s*Secure(;|$)/i.test(secure), `Secure over https: ${secure}`);
        assertCommonHeaders(tls.res, 'https handshake');
    });

    test('/meta channels cannot be published or subscribed to', T, async () => {
        const c = await started(fx.s.lighttpd.url);
        for (const ch of ['/meta/foo', '/meta/custom/x', '/meta']) {
            assertBayeuxError(await c.publish(ch, { x: 1 }), { error: `403:${ch}:publish_denied` });
        }
        for (const p of ['/meta/**', '/meta/connect', '/meta/*']) {
            assertBayeuxError(await c.subscribe(p), { error: `403:${p}:subscribe_denied` });
        }
        await c.disconnect();
    });

    test('Cache-Control: no-store and nosniff on every kind of reply', T, async () => {
        const url = fx.s.lighttpd.url;
        const { res: ok } = await handshake(url);
        assert.equal(ok.status, 200);
        assertCommonHeaders(ok, '200 handshake');
        const bad = await post(url, '[{"channel":');
        assertHttpError(bad, 400, 'malformed JSON');
        assertCommonHeaders(bad, '400');
        const big = await post(url, JSON.stringify([{ channel: '/x', data: 'y'.repeat(70000) }]));
        assertHttpError(big, 413, 'body over --max-body');
        assertCommonHeaders(big, '413');
        const put = await request(url, { method: 'PUT', body: '[]' });
        assertHttpError(put, 405, 'PUT');
        assertCommonHeaders(put, '405');
        const jp = await jsonpGet(url, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] }], 'cb');
        assert.equal(jp.status, 200);
        assert.match(jp.headers['content-type'], /^text\/javascript/);
        assert.equal(jp.payload[0].successful, true);
        assertCommonHeaders(jp, 'JSONP');
        const jpBad = await jsonpGet(url, '[{}]', 'alert(1)');
        assertHttpError(jpBad, 400, 'bad JSONP callback');
        assertCommonHeaders(jpBad, 'JSONP 400');
        // a held connect, answered later by a delivery from another thread
        const ch = uniqueChannel('/sec');
        const waiter = await started(url, null, [ch]);
        const held = waiter.connect();
        await sleep(300 * SLOW);
        const pub = await started(url);
        await pub.publish(ch, { n: 1 });
        const done = await held;
        assert.equal(done.messages.length, 1);
        assertCommonHeaders(waiter.lastResponse, 'held connect');
        const refused = await post(url, '[]', { headers: { Origin: EVIL } });
        assertCommonHeaders(refused, 'CORS 403');
        const status = await request(`${url}/status`);
        assertCommonHeaders(status, 'status');
        await waiter.disconnect();
        await pub.disconnect();
    });

    test('cross-origin requests are refused by default; same-origin and Origin-less pass', T, async () => {
        const srv = fx.s.lighttpd;
        const hsBody = [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }];
        const evil = await post(srv.url, hsBody, { headers: { Origin: EVIL } });
        assertHttpError(evil, 403, 'foreign Origin');
        assert.match(evil.text, /cross-origin request refused/);
        assert.equal(evil.headers['access-control-allow-origin'], undefined);
        assert.equal(browserCookie(evil), undefined, 'no cookie for a refused origin');
        for (const origin of ['null', `${srv.origin}/`, `http://127.0.0.1:${srv.port + 1}`, `https://127.0.0.1:${srv.port}`]) {
            assertHttpError(await post(srv.url, hsBody, { headers: { Origin: origin } }), 403, `Origin ${origin}`);
        }
        const same = await post(srv.url, hsBody, { headers: { Origin: srv.origin } });
        assert.equal(same.status, 200);
        assert.equal(same.json[0].successful, true);
        assert.equal(same.headers['access-control-allow-origin'], undefined, 'same-origin needs no CORS headers');
        const none = await post(srv.url, hsBody);
        assert.equal(none.status, 200);
        const jsonp = await jsonpGet(srv.url, hsBody, 'cb', { headers: { Origin: EVIL } });
        assertHttpError(jsonp, 403, 'a JSONP GET that does carry a foreign Origin');
        const pre = await request(srv.url, { method: 'OPTIONS', headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST' } });
        assertHttpError(pre, 403, 'preflight of a foreign origin');
        const opt = await request(srv.url, { method: 'OPTIONS' });
        assertHttpError(opt, 405, 'OPTIONS without Origin is no preflight');
        if (fx.s.tls) {
            const t = fx.s.tls;
            const ok = await post(t.url, hsBody, { agent: t.agent, headers: { Origin: t.origin } });
            assert.equal(ok.status, 200, 'https page of the same origin');
            const mixed = await post(t.url, hsBody, { agent: t.agent, headers: { Origin: `http://127.0.0.1:${t.port}` } });
            assertHttpError(mixed, 403, 'an http page calling the https endpoint');
        }
    });

    testLighttpdHealthy(fx);
});

// ---------------------------------------------------------------------------

describe('an allowed origin behind lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({
            responderArgs: ['--timeout', '3000', '--max-body', '65536', '--allow-origin', APP,
                '--allow-origin', 'https://Other.Example'],
        }),
    }));

    function assertCors(res, what) {
        assert.equal(res.headers['access-control-allow-origin'], APP, `${what}: Allow-Origin`);
        assert.equal(res.headers['access-control-allow-credentials'], 'true', `${what}: Allow-Credentials`);
        assert.match(res.headers.vary || '', /(^|,\s*)Origin(\s*,|$)/i, `${what}: Vary`);
        assertCommonHeaders(res, what);
    }

    test('every reply to the allowed origin names it, held connects and errors included', T, async () => {
        const url = fx.s.lighttpd.url;
        const headers = { Origin: APP };
        const jar = new CookieJar();
        const hs = await post(url, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }], { headers, cookieJar: jar });
        assert.equal(hs.status, 200);
        assertCors(hs, 'handshake');
        const id = hs.json[0].clientId;
        const ch = uniqueChannel('/app');
        const sub = await post(url, [{ channel: '/meta/subscribe', clientId: id, subscription: ch }], { headers, cookieJar: jar });
        assert.equal(sub.json[0].successful, true);
        const first = await post(url, [{ channel: '/meta/connect', clientId: id, connectionType: 'long-polling' }], { headers, cookieJar: jar });
        assertCors(first, 'first connect');
        const held = post(url, [{ channel: '/meta/connect', clientId: id, connectionType: 'long-polling' }], { headers, cookieJar: jar });
        await sleep(300 * SLOW);
        const pub = await started(url);
        await pub.publish(ch, { n: 1 });
        const done = await held;
        assert.equal(done.json.length, 2, JSON.stringify(done.json));
        assertCors(done, 'held connect answered by a delivery');
        assertCors(await post(url, '[{"channel":', { headers }), 'HTTP 400');
        assertCors(await post(url, JSON.stringify([{ channel: '/x', data: 'y'.repeat(70000) }]), { headers }), 'HTTP 413');
        // no Origin: no CORS headers
        const plain = await post(url, '[]');
        assert.equal(plain.headers['access-control-allow-origin'], undefined);
        await pub.disconnect();
    });

    test('preflight: 204 with methods, headers and max-age for the allowed origin, 403 for others', T, async () => {
        const url = fx.s.lighttpd.url;
        const ask = { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' };
        const pre = await request(url, { method: 'OPTIONS', headers: { Origin: APP, ...ask } });
        assert.equal(pre.status, 204, pre.text);
        assert.equal(pre.text, '');
        assertCors(pre, 'preflight');
        assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST');
        assert.equal(pre.headers['access-control-allow-headers'], 'Content-Type');
        assert.equal(pre.headers['access-control-max-age'], '86400');
        // the second origin was given in another case: it is compared canonically
        const other = await request(url, { method: 'OPTIONS', headers: { Origin: 'https://other.example', ...ask } });
        assert.equal(other.status, 204);
        assert.equal(other.headers['access-control-allow-origin'], 'https://other.example');
        for (const origin of [EVIL, 'http://app.example:3001', 'https://app.example:3000', 'null']) {
            const no = await request(url, { method: 'OPTIONS', headers: { Origin: origin, ...ask } });
            assertHttpError(no, 403, `preflight from ${origin}`);
            assert.equal(no.headers['access-control-allow-origin'], undefined);
            assertHttpError(await post(url, '[]', { headers: { Origin: origin } }), 403, `POST from ${origin}`);
        }
    });

    testLighttpdHealthy(fx);
});

// ---------------------------------------------------------------------------

describe('roles and the example chat policy behind lighttpd', () => {
    const fx = useServers(async () => {
        const files = await securityFiles({
            secrets: `# test secrets\nmember ${MEMBER}\n\nadmin ${ADMIN}   # not used by the policy\n`,
            'chat.policy': examplePolicy(),
        });
        return {
            files: filesHolder(files),
            lighttpd: await startLighttpd({
                responderArgs: ['--timeout', '3000', '--auth-file', files.secrets, '--policy', files['chat.policy']],
            }),
        };
    });

    test('a secret gives its role; a wrong or non-string ext.auth is refused with reconnect none', T, async () => {
        const url = fx.s.lighttpd.url;
        for (const auth of [MEMBER, ADMIN]) {
            const { reply } = await handshake(url, { ext: { auth } });
            assert.equal(reply.successful, true, JSON.stringify(reply));
        }
        const anon = await handshake(url);
        assert.equal(anon.reply.successful, true, 'no ext.auth: anonymous');
        for (const auth of ['wrong', MEMBER.slice(0, -1), `${MEMBER}x`, 'member', '', 42, null, [MEMBER], { auth: MEMBER }]) {
            const { reply, res } = await handshake(url, { ext: { auth } }, { cookieJar: new CookieJar() });
            assertBayeuxError(reply, { ...DENIED, id: '1', channel: '/meta/handshake' });
            assert.equal(reply.clientId, undefined, 'no clientId');
            assert.equal(browserCookie(res), undefined, 'no cookie');
            assertCommonHeaders(res, 'refused handshake');
        }
    });

    test('anonymous sessions read the rooms but publish nothing but /service/rooms', T, async () => {
        const url = fx.s.lighttpd.url;
        const anon = await started(url);
        for (const p of ['/chat/demo', '/chat/*', '/chat/**', '/members/demo', '/members/**', '/rooms']) {
            const r = await anon.subscribe(p);
            assert.equal(r.successful, true, `subscribe ${p}: ${JSON.stringify(r)}`);
        }
        for (const p of ['/**', '/*', '/rooms/x', '/secret', '/service/members']) {
            assertBayeuxError(await anon.subscribe(p), { error: `403:${p}:subscribe_denied` });
        }
        // one denied pattern refuses the whole request: nothing of it is subscribed
        const batch = await started(url);
        assertBayeuxError(await batch.subscribe(['/chat/batch', '/other/x']), { error: '403:/other/x:subscribe_denied' });
        assertBayeuxError(await anon.publish('/service/members', { user: 'anon', room: 'demo' }), { error: '403:/service/members:publish_denied' });
        assertBayeuxError(await anon.publish('/service/privatechat', { room: 'demo', chat: 'x', peer: 'a' }), { error: '403:/service/privatechat:publish_denied' });
        assertBayeuxError(await anon.publish('/chat/demo', { chat: 'x' }), { error: '403:/chat/demo:publish_denied' });
        assertBayeuxError(await anon.publish('/elsewhere', { x: 1 }), { error: '403:/elsewhere:publish_denied' });
        const rooms = await anon.publish('/service/rooms', {});
        assert.equal(rooms.successful, true, JSON.stringify(rooms));
        const member = await started(url, { auth: MEMBER });
        assert.equal((await member.publish('/service/members', { user: 'm1', room: 'batch' })).successful, true);
        assert.equal((await member.publish('/chat/batch', { chat: 'hello' })).successful, true);
        const got = (await anon.connect({ timeout: 0 })).messages;
        assert.ok(got.some((m) => m.channel === '/chat/batch' && m.data.chat === 'hello'), `anonymous reads: ${JSON.stringify(got)}`);
        assert.deepEqual((await batch.connect({ timeout: 0 })).messages, [], 'the refused subscription delivers nothing');
        for (const c of [anon, batch, member]) await c.disconnect();
    });

    test('members join, chat and send private messages; others cannot; /service is in the policy', T, async () => {
        const url = fx.s.lighttpd.url;
        const room = `p${process.pid}`;
        const watcher = await started(url, null, [`/chat/${room}`]);
        const alice = await started(url, { auth: MEMBER }, [`/chat/${room}`, `/members/${room}`]);
        const bob = await started(url, { auth: MEMBER }, [`/chat/${room}`]);
        const admin = await started(url, { auth: ADMIN });
        assert.equal((await alice.publish('/service/members', { user: 'alice', room })).successful, true);
        assert.equal((await bob.publish('/service/members', { user: 'bob', room })).successful, true);
        assertBayeuxError(await admin.publish('/service/members', { user: 'root', room }), { error: '403:/service/members:publish_denied' });
        assertBayeuxError(await admin.publish(`/chat/${room}`, { chat: 'x' }), { error: `403:/chat/${room}:publish_denied` });
        assert.equal((await alice.publish(`/chat/${room}`, { chat: 'hello all' })).successful, true);
        assert.equal((await alice.publish('/service/privatechat', { room, chat: 'psst', peer: 'bob' })).successful, true);
        assertBayeuxError(await alice.publish('/members/x', { x: 1 }), { error: '403:/members/x:publish_denied' });
        const seen = (await watcher.connect({ timeout: 0 })).messages;
        assert.ok(seen.some((m) => m.data && m.data.chat === 'hello all' && m.data.user === 'alice'), `the watcher reads the room: ${JSON.stringify(seen)}`);
        assert.ok(!seen.some((m) => m.data && m.data.chat === 'psst'), 'private stays private');
        const bobGot = (await bob.connect({ timeout: 0 })).messages;
        assert.ok(bobGot.some((m) => m.data && m.data.chat === 'psst'), 'bob got the private message');
        for (const c of [watcher, alice, bob, admin]) await c.disconnect();
    });

    test('the CometD client sends ext.auth as handshake props or from an extension; a wrong one stops it', T, async () => {
        const url = fx.s.lighttpd.url;
        const room = `c${process.pid}`;
        const props = cometdClient(url);
        const viaProps = await new Promise((resolve) => props.cometd.handshake({ ext: { auth: MEMBER } }, resolve));
        assert.equal(viaProps.successful, true, JSON.stringify(viaProps));
        const got = [];
        await cometdSubscribe(props, `/chat/${room}`, (m) => got.push(m));
        await cometdPublish(props, '/service/members', { user: 'cometd', room });
        await cometdPublish(props, `/chat/${room}`, { chat: 'from cometd' });
        const until = Date.now() + WAIT;
        while (!got.some((m) => m.data.chat === 'from cometd') && Date.now() < until) await sleep(50);
        assert.ok(got.some((m) => m.data.chat === 'from cometd' && m.data.user === 'cometd'), JSON.stringify(got));

        const ext = cometdClient(url);
        ext.cometd.registerExtension('auth', {
            outgoing(m) {
                if (m.channel === '/meta/handshake') m.ext = { ...(m.ext || {}), auth: MEMBER };
                return m;
            },
        });
        await cometdHandshake(ext);
        await cometdPublish(ext, '/service/members', { user: 'cometd2', room });

        const anon = cometdClient(url);
        await cometdHandshake(anon);
        const refused = await new Promise((resolve) => anon.cometd.publish('/service/members', { user: 'x', room }, resolve));
        assert.equal(refused.successful, false);
        assert.equal(refused.error, '403:/service/members:publish_denied');

        const wrong = cometdClient(url);
        let sent = 0;
        wrong.rewrite = (m) => {
            if (m.channel === '/meta/handshake') { sent++; m.ext = { auth: 'not-a-secret-at-all' }; }
            return m;
        };
        const reply = await new Promise((resolve) => wrong.cometd.handshake(resolve));
        assertBayeuxError(reply, DENIED);
        await sleep(1500 * SLOW);
        assert.equal(sent, 1, 'reconnect none: the client does not handshake again');
        assert.equal(wrong.cometd.isDisconnected(), true, 'and is disconnected');
        await cometdStop(props, ext, anon, wrong);
    });

    testLighttpdHealthy(fx);
});

// ---------------------------------------------------------------------------

describe('--auth-required behind lighttpd', () => {
    const fx = useServers(async () => {
        const files = await securityFiles({ secrets: `member ${MEMBER}\n` });
        return {
            files: filesHolder(files),
            lighttpd: await startLighttpd({ responderArgs: ['--auth-file', files.secrets, '--auth-required'] }),
        };
    });

    test('a handshake without ext.auth is refused like a wrong one; without a policy a member may do all', T, async () => {
        const url = fx.s.lighttpd.url;
        for (const extra of [{}, { ext: {} }, { ext: { other: 1 } }, { ext: 'x' }, { ext: { auth: 'wrong-wrong-wrong' } }]) {
            const { reply } = await handshake(url, extra);
            assertBayeuxError(reply, { ...DENIED, channel: '/meta/handshake' });
        }
        const jp = await jsonpGet(url, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] }], 'cb');
        assertBayeuxError(jp.payload[0], DENIED);
        const c = await started(url, { auth: MEMBER }, ['/**']);
        assert.equal((await c.publish('/anything/at/all', { x: 1 })).successful, true);
        assert.equal((await c.connect({ timeout: 0 })).messages.length, 1);
        await c.disconnect();
    });

    testLighttpdHealthy(fx);
});

// ---------------------------------------------------------------------------

describe('the responder refuses to start on bad security options', () => {
    test('exit status 2 and FILE:LINE in the message', T, async () => {
        const files = await securityFiles({
            good: `member ${MEMBER}\n`,
            short: `# comment\nmember short\n`,
            policy: 'allow publish /chat/** member\nallow publish chat member\n',
            meta: 'allow subscribe /meta/** *\n',
        });
        const port = await freePort();
        const run = (...args) => spawnSync(BAYEUX_FCGI, ['--listen', `127.0.0.1:${port}`, ...args],
            { encoding: 'utf8', timeout: 20000 * SLOW });
        const cases = [
            [['--auth-file', files.short], `${files.short}:2: the secret of role 'member' must be 16-1024 bytes`],
            [['--auth-file', path.join(files.dir, 'missing')], 'cannot open'],
            [['--auth-file', files.good, '--policy', files.policy], `${files.policy}:2: 'chat' is not a channel name or pattern`],
            [['--policy', files.meta], `${files.meta}:1:`],
            [['--auth-required'], '--auth-required needs --auth-file'],
            [['--allow-origin', 'http://app.example/'], "--allow-origin 'http://app.example/'"],
            [['--allow-origin', '*'], "--allow-origin '*'"],
        ];
        for (const [args, want] of cases) {
            const r = run(...args);
            assert.equal(r.status, 2, `${args.join(' ')}: exit 2 (got ${r.status}, ${r.stderr})`);
            assert.ok(r.stderr.includes(want), `${args.join(' ')}: stderr has "${want}": ${r.stderr}`);
        }
        fs.rmSync(files.dir, { recursive: true, force: true });
    });
});
