// scenarios: the cases that need more than one request/answer pair —
// slow drips and resets over raw sockets, and the global limits (sessions,
// held polls) that need several sessions at once.  Each takes the case's
// context (see catalogue.test.mjs: url, port, clients, vars, send, drain,
// checkDelivered) and the case, and asserts the case's expected answer.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { BayeuxClient, sleep, stillPendingAfter, SLOW } from '../integration/harness.mjs';
import { rawRequest, checkAnswer, bytesOf, substitute } from './wire.mjs';
import { TIGHT } from './cases.mjs';

/** How long a request must stay unanswered to count as held. */
export const PENDING_MS = 300 * SLOW;
/** Bound on waiting for the responder to notice something (a closed socket). */
const NOTICE_MS = 1500 * SLOW;
/** Resets of a held connect tried before giving up on lighttpd closing one. */
const RESET_ATTEMPTS = 8;

/**
 * The responder's FastCGI sockets whose other end is closed (`ss` reports
 * peer 0), or null when ss cannot tell.  lighttpd closes the FastCGI
 * connection of a held request when its client resets — most of the time:
 * now and then it keeps it open, and then the responder cannot know.
 */
function orphanSockets(pid) {
    const r = spawnSync('ss', ['-xpn'], { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout) return null;
    return r.stdout.split('\n').filter((l) => l.includes(`pid=${pid},`) && /\*\s+0\s+users:/.test(l));
}

/**
 * Holds a connect on a raw socket (holdRaw() returns the rawRequest promise
 * and its control), resets it, and waits until freed() says the responder
 * let the poll go.  An attempt after which lighttpd kept the FastCGI
 * connection open proves nothing and is tried again; one after which
 * lighttpd closed it but the responder still holds the socket fails.
 * beforeReset(attempt) runs while the raw connect is held.
 */
async function resetUntilFreed(ctx, holdRaw, freed, what, beforeReset = null) {
    let inconclusive = 0;
    for (let attempt = 1; attempt <= RESET_ATTEMPTS; attempt++) {
        const { raw, control } = holdRaw(attempt);
        assert.ok(await stillPendingAfter(raw, PENDING_MS), `${what}: the raw connect is held`);
        if (beforeReset) await beforeReset(attempt);
        control.reset();
        const r = await raw;
        assert.equal(r.bytes, 0, `${what}: the connect was held until the reset`);
        const until = Date.now() + NOTICE_MS;
        let last;
        while (Date.now() < until) {
            last = await freed();
            if (last === true) return;
            await sleep(100);
        }
        const orphans = orphanSockets(ctx.responderPid);
        if (orphans && orphans.length) {
            assert.fail(`${what}: ${NOTICE_MS} ms after lighttpd closed the held request's FastCGI connection the responder ` +
                `still holds it (${orphans.length} socket(s) with a closed peer); the poll was not let go: ${JSON.stringify(last)}`);
        }
        inconclusive++;
    }
    console.log(`# ${what}: in ${inconclusive} resets lighttpd never closed the FastCGI connection; nothing to judge`);
}

/** The head and body of a POST /cometd for a raw socket. */
function rawPost(ctx, c, { close = true, jar = ctx.clients.A ? ctx.clients.A.jar : null } = {}) {
    const body = c.request.bytes ? bytesOf(c.request.bytes, ctx.vars)
        : Buffer.from(JSON.stringify(substitute(c.request.body, ctx.vars)));
    const lines = ['POST /cometd HTTP/1.1', '127.0.0.1', 'Content-Type: application/json'];
    lines[1] = `Host: 127.0.0.1:${ctx.port}`;
    if (jar && jar.cookies.size) lines.push(`Cookie: ${jar.header()}`);
    if (close) lines.push('Connection: close');
    if (!c.request.chunked) {
        lines.push(`Content-Length: ${body.length}`);
        return { head: lines.join('\r\n'), body };
    }
    lines.push('Transfer-Encoding: chunked');
    const parts = [];
    for (let i = 0; i < body.length; i += 16) {
        const piece = body.subarray(i, i + 16);
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    return { head: lines.join('\r\n'), body: Buffer.concat(parts) };
}

const connectOf = (cid, id, transport = 'long-polling') => [{ channel: '/meta/connect', clientId: cid, connectionType: transport, id }];

/** A request the server holds, answered later: { promise, settled }. */
function hold(client, id) {
    const h = { settled: false };
    h.promise = client.send(connectOf(client.clientId, id)).then(
        (r) => { h.settled = true; return r; },
        (e) => { h.settled = true; return { error: e }; });
    return h;
}

export const scenarios = {
    /** The whole request one byte at a time (headers and body). */
    async drip(ctx, c) {
        const req = rawPost(ctx, c);
        const res = await rawRequest(ctx.port, { ...req, dripMs: c.dripMs, timeoutMs: 60000 * SLOW });
        checkAnswer(res, c.expect, ctx, c.name);
        if (c.delivered) await ctx.checkDelivered(c.delivered);
    },

    /** A reset mid-request (part of the body) or right after a whole one. */
    async reset(ctx, c) {
        const req = rawPost(ctx, c, { close: false });
        const total = Buffer.byteLength(req.head) + 4 + req.body.length;
        const partial = c.partialBytes ? Math.floor(total * c.partialBytes) : null;
        const r = await rawRequest(ctx.port, { ...req, partial, resetAfterMs: partial ? 200 : 0 });
        assert.equal(r.reset, true);
        await sleep(200);
        // the session is untouched: its first connect is answered as usual
        const conn = await ctx.clients.A.connect({ timeout: 0 });
        assert.equal(conn.reply && conn.reply.successful, true, `the session works after the reset: ${JSON.stringify(conn.all)}`);
        if (c.delivered) await ctx.checkDelivered(c.delivered);
    },

    /**
     * A held connect whose client resets: lighttpd closes the FastCGI
     * connection, and the responder must drop the poll.  Seen from outside:
     * the browser's one poll slot is free, so another session of the same
     * browser is held instead of being told multiple-clients.
     */
    async resetHeld(ctx, c) {
        const A = ctx.clients.A;
        await resetUntilFreed(ctx, (attempt) => {
            const held = rawPost(ctx, { request: { body: connectOf('$CID', `dropped${attempt}`) } }, { close: false });
            const control = {};
            return { raw: rawRequest(ctx.port, { ...held, control, timeoutMs: 120000 * SLOW }), control };
        }, async () => {
            const tab = ctx.client({ cookieJar: A.jar.clone() });
            await tab.start([]);
            const h = hold(tab, 'second-tab');
            if (!await stillPendingAfter(h.promise, PENDING_MS)) return h.promise;   // told multiple-clients
            await tab.disconnect();
            const done = await h.promise;
            assert.ok(!done.error, `the held connect of the second tab was answered: ${done.error}`);
            return true;
        }, 'the reset connect still holds the browser\'s poll slot');
        const again = await A.connect({ timeout: 0 });
        assert.equal(again.reply && again.reply.successful, true, `the session works after the reset: ${JSON.stringify(again.all)}`);
    },

    /** Handshakes up to --max-sessions pass; one more is refused until a session ends. */
    async maxSessions(ctx, c) {
        const made = [];
        for (let i = 0; i < TIGHT.maxSessions; i++) {
            const s = new BayeuxClient(ctx.url, { agent: ctx.agent });
            ctx.extra.push(s);
            const r = await s.handshake();
            assert.equal(r && r.successful, true, `handshake ${i + 1} of ${TIGHT.maxSessions}: ${JSON.stringify(r)}`);
            made.push(s);
        }
        const over = new BayeuxClient(ctx.url, { agent: ctx.agent });
        ctx.extra.push(over);
        const res = await ctx.send({ body: [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }], cookie: 'none' });
        checkAnswer(res, c.expect, ctx, `handshake ${TIGHT.maxSessions + 1}`);
        const d = await made[0].disconnect();
        assert.equal(d && d.successful, true);
        const again = await over.handshake();
        assert.equal(again && again.successful, true, `a handshake once a session has ended: ${JSON.stringify(again)}`);
    },

    /** Held connects up to --max-polls; one more is refused, its session and queue stay. */
    async maxPolls(ctx, c) {
        const [A, B, C] = await ctx.started(3, { C: [ctx.vars.CH] });
        const ha = hold(A, 'a');
        const hb = hold(B, 'b');
        assert.ok(await stillPendingAfter(ha.promise, PENDING_MS), 'A\'s connect is held');
        assert.ok(!hb.settled, 'B\'s connect is held');
        const res = await ctx.send({ cookie: 'C', body: connectOf('$CID3', 'over') }, { timeoutMs: 10000 * SLOW });
        checkAnswer(res, c.expect, ctx, `connect ${TIGHT.maxPolls + 1}`);
        const p = await A.publish(ctx.vars.CH, 'queued while refused');
        assert.equal(p && p.successful, true);
        await B.disconnect();
        const b = await hb.promise;
        assert.ok(!b.error && b.some((m) => m.channel === '/meta/connect' && m.successful), `B's held connect answered: ${JSON.stringify(b)}`);
        const later = await C.connect();
        assert.equal(later.reply && later.reply.successful, true, `C connects once a slot is free: ${JSON.stringify(later.all)}`);
        assert.deepEqual(later.messages.map((m) => m.data), ['queued while refused'], 'C kept what was queued for it');
        await A.disconnect();
        await ha.promise;
    },

    /** A held connect whose client resets gives its --max-polls slot back. */
    async resetFreesSlot(ctx, c) {
        const [A, B, C] = await ctx.started(3);
        const ha = hold(A, 'a');
        await resetUntilFreed(ctx, (attempt) => {
            const held = rawPost(ctx, { request: { body: connectOf(B.clientId, `dropped${attempt}`) } }, { close: false, jar: B.jar });
            const control = {};
            return { raw: rawRequest(ctx.port, { ...held, control, timeoutMs: 120000 * SLOW }), control };
        }, async () => {
            const hc = hold(C, 'c');
            if (!await stillPendingAfter(hc.promise, PENDING_MS)) return hc.promise;   // 503 too_many_polls
            await C.disconnect();
            await hc.promise;
            return true;
        }, 'the reset connect still holds its --max-polls slot', async (attempt) => {
            if (attempt > 1) return;
            // the limit is in force: while A's and B's connects are held, C is refused
            const refused = await ctx.send({ cookie: 'C', body: connectOf('$CID3', 'over') }, { timeoutMs: 10000 * SLOW });
            checkAnswer(refused, { status: 200, replies: [{ channel: '/meta/connect', successful: false, error: '503::too_many_polls' }] }, ctx, 'a third held connect');
        });
        await A.disconnect();
        await ha.promise;
    },
};
