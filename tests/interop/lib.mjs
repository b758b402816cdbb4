// Helpers of the interoperability suite (tests/interop/*.test.mjs): the npm
// CometD 9 client (cometd + cometd-nodejs-client) and the Faye 1.4.3 Node
// client, wrapped in promises, against bayeux-fcgi behind a real front server
// started with tests/integration/harness.mjs.
//
// Cookies: cometd-nodejs-client keeps one cookie jar per host for the whole
// process unless adapt() is given `cookies: {storeCookie, retrieveCookies}`
// (see its src/XMLHttpRequest.js).  storeCookie() only sees the request URL
// object, whose `headers` hold the request headers set through
// XMLHttpRequest.setRequestHeader(), and CometD sets its configured
// `requestHeaders` that way.  So every CometD client made here sends an
// `X-Interop-Jar: <n>` header and gets the jar <n>: each client its own
// BAYEUX_BROWSER cookie (a real browser each), or a shared jar on purpose.
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { adapt } from 'cometd-nodejs-client';
import { CometD } from 'cometd';
import faye from 'faye';
import { within, sleep, SLOW } from '../integration/harness.mjs';

const require = createRequire(import.meta.url);

export const T = { timeout: 60000 * SLOW };
/** Bound on each client step (handshake, subscribe, a delivery...). */
export const WAIT = 10000 * SLOW;

// ---------------------------------------------------------------------------
// per-client cookie jars for cometd-nodejs-client

const JAR_HEADER = 'X-Interop-Jar';
/** jar name -> Map(cookie name -> "name=value") */
export const jars = new Map();
let jarSeq = 0;

function jarOf(uri) {
    const h = uri && uri.headers ? uri.headers[JAR_HEADER] : undefined;
    const key = h === undefined ? '(none)' : String(h);
    if (!jars.has(key)) jars.set(key, new Map());
    return jars.get(key);
}

adapt({
    cookies: {
        storeCookie(uri, header, callback) {
            const nv = String(header).split(';')[0].trim();
            const eq = nv.indexOf('=');
            if (eq > 0) jarOf(uri).set(nv.slice(0, eq), nv);
            callback(null, nv);
        },
        retrieveCookies(context, uri, callback) {
            callback(null, [...jarOf(uri).values()]);
        },
    },
});

/** A fresh jar name (a new simulated browser). */
export function newJar() { return `jar${++jarSeq}`; }

/** Every POST body the CometD clients of this process send (parsed). */
export const cometdRequests = [];
{
    const X = globalThis.window.XMLHttpRequest;
    const send = X.prototype.send;
    X.prototype.send = function (data) {
        try { cometdRequests.push(JSON.parse(data)); } catch { cometdRequests.push(data); }
        return send.call(this, data);
    };
}

// ---------------------------------------------------------------------------
// CometD

/**
 * A CometD client (not yet handshaken) with its own cookie jar (or `jar`).
 * long-polling only: the websocket transport is unregistered (the server has
 * none; without this the client first tries it and falls back).
 * `c.advices`: every advice of a /meta/connect reply; `c.handshakes`: every
 * /meta/handshake reply; `c.connects`: every /meta/connect reply.
 */
export function cometdClient(url, { jar = newJar(), config = {} } = {}) {
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    // maxSendBayeuxMessageSize: the client refuses to send more than 8 KiB by
    // default; the server takes up to --max-body (1 MiB).
    cometd.configure({ url, logLevel: 'warn', requestHeaders: { [JAR_HEADER]: jar }, maxSendBayeuxMessageSize: 1048576, ...config });
    const c = { cometd, jar, advices: [], handshakes: [], connects: [] };
    cometd.addListener('/meta/connect', (m) => { c.connects.push(m); if (m.advice) c.advices.push(m.advice); });
    cometd.addListener('/meta/handshake', (m) => c.handshakes.push(m));
    // every message as it arrives from the server, before the client
    // dispatches it to its (possibly several matching) listeners
    c.raw = [];
    c.rewrite = null; // (message) => message: changes outgoing messages
    cometd.registerExtension('interop-recorder', {
        incoming(m) { c.raw.push(m); return m; },
        outgoing(m) { return c.rewrite ? c.rewrite(m) : m; },
    });
    return c;
}

export function cometdHandshake(c) {
    return within(new Promise((resolve, reject) => {
        c.cometd.handshake((r) => (r.successful ? resolve(r) : reject(new Error(`CometD handshake: ${JSON.stringify(r)}`))));
    }), WAIT, 'CometD handshake');
}

/** New client + handshake. */
export async function cometdStart(url, opts) {
    const c = cometdClient(url, opts);
    c.handshakeReply = await cometdHandshake(c);
    return c;
}

/** Resolves with the subscribe reply (rejects when unsuccessful); returns the handle as .sub */
export function cometdSubscribe(c, channel, onMessage) {
    return within(new Promise((resolve, reject) => {
        const sub = c.cometd.subscribe(channel, onMessage, (r) => (r.successful ? resolve({ reply: r, sub }) : reject(new Error(`CometD subscribe ${channel}: ${JSON.stringify(r)}`))));
    }), WAIT, `CometD subscribe ${channel}`);
}

export function cometdUnsubscribe(c, sub) {
    return within(new Promise((resolve, reject) => {
        c.cometd.unsubscribe(sub, (r) => (r.successful ? resolve(r) : reject(new Error(`CometD unsubscribe: ${JSON.stringify(r)}`))));
    }), WAIT, 'CometD unsubscribe');
}

/** Resolves with the publish reply whatever `successful` is. */
export function cometdPublishRaw(c, channel, data) {
    return within(new Promise((resolve) => c.cometd.publish(channel, data, resolve)), WAIT, `CometD publish ${channel}`);
}

export async function cometdPublish(c, channel, data) {
    const r = await cometdPublishRaw(c, channel, data);
    if (!r.successful) throw new Error(`CometD publish ${channel}: ${JSON.stringify(r).slice(0, 600)}`);
    return r;
}

export function cometdDisconnect(c) {
    if (!c || c.cometd.isDisconnected()) return Promise.resolve(null);
    return within(new Promise((resolve) => c.cometd.disconnect((r) => resolve(r))), WAIT, 'CometD disconnect');
}

export async function cometdStop(...cs) {
    for (const c of cs) { try { await cometdDisconnect(c); } catch { /* best effort */ } }
}

// ---------------------------------------------------------------------------
// Faye

/**
 * Records every HTTP request the Faye Node clients of this process send:
 * `fayeRequests` gets one array of messages per POST (Faye's NodeHttp transport).
 */
export const fayeRequests = [];
{
    const NodeHttp = require('faye/src/transport/node_http.js');
    const orig = NodeHttp.prototype.request;
    NodeHttp.prototype.request = function (messages) {
        fayeRequests.push(JSON.parse(JSON.stringify(messages)));
        return orig.call(this, messages);
    };
}

export function fayeClient(url) {
    // timeout: seconds before Faye gives up on a request (must exceed the
    // server's long-poll timeout); retry: seconds between attempts.
    const client = new faye.Client(url, { timeout: 30, retry: 1 });
    client.disable('websocket');
    client.disable('eventsource');
    // every message as it arrives from the server (before Faye dispatches it)
    client.raw = [];
    client.onOutgoing = null; // (message) => void, called before it is sent
    client.addExtension({
        incoming(m, callback) { client.raw.push(m); callback(m); },
        outgoing(m, callback) { if (client.onOutgoing) client.onOutgoing(m); callback(m); },
    });
    return client;
}

export function fayeSubscribe(client, channel, onMessage) {
    const sub = client.subscribe(channel, onMessage);
    return within(new Promise((resolve, reject) => sub.then(() => resolve({ sub }), (e) => reject(new Error(`Faye subscribe ${channel}: ${JSON.stringify(e)}`)))), WAIT, `Faye subscribe ${channel}`);
}

/** Resolves { ok: true } or { ok: false, error } (Faye's parsed error). */
export function fayePublishRaw(client, channel, data) {
    const pub = client.publish(channel, data);
    return within(new Promise((resolve) => pub.then(() => resolve({ ok: true }), (error) => resolve({ ok: false, error }))), WAIT, `Faye publish ${channel}`);
}

export async function fayePublish(client, channel, data) {
    const r = await fayePublishRaw(client, channel, data);
    if (!r.ok) throw new Error(`Faye publish ${channel}: ${JSON.stringify(r.error).slice(0, 600)}`);
    return r;
}

export async function fayeStop(...clients) {
    for (const client of clients) {
        try { await within(Promise.resolve(client.disconnect()), WAIT, 'Faye disconnect'); } catch { /* best effort */ }
    }
}

// ---------------------------------------------------------------------------

/** A list of received messages with an awaitable wait. */
export function inbox(label = 'inbox') {
    const items = [];
    let wake = null;
    return {
        items,
        push(m) { items.push(m); if (wake) { const w = wake; wake = null; w(); } },
        async waitFor(pred, what, ms = WAIT) {
            const end = Date.now() + ms;
            for (;;) {
                const hit = items.find(pred);
                if (hit) return hit;
                if (Date.now() > end) throw new Error(`${label}: ${what}: not received within ${ms} ms; got ${JSON.stringify(items).slice(0, 2000)}`);
                await Promise.race([new Promise((r) => { wake = r; }), sleep(100)]);
            }
        },
        async waitCount(n, what, ms = WAIT) {
            const end = Date.now() + ms;
            while (items.length < n) {
                if (Date.now() > end) throw new Error(`${label}: ${what}: ${items.length} of ${n} received within ${ms} ms`);
                await Promise.race([new Promise((r) => { wake = r; }), sleep(100)]);
            }
        },
    };
}

/** Asserts that nothing more than `n` items arrive within `ms`. */
export async function assertStays(box, n, ms, what) {
    await sleep(ms);
    assert.equal(box.items.length, n, `${what}: got ${JSON.stringify(box.items).slice(0, 1000)}`);
}

export { faye, CometD, within, sleep };
