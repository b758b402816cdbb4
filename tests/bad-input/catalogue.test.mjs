// The bad-input catalogue (cases.mjs) through a real lighttpd to
// bayeux-fcgi, one node:test test per case, while two canaries chat in a
// room throughout.  Afterwards: the canaries lost nothing, no held poll or
// socket is left, the responder is the process that started (never
// restarted) and its log holds no sanitizer report.  The global limits
// (--max-sessions, --max-polls) run against a second, tight instance.
//
// Run: make check TESTS=tests/bad-input/bad-input.test, or
//   BAYEUX_FCGI=$PWD/bayeux-fcgi TOP_SRCDIR=$PWD node --test tests/bad-input/catalogue.test.mjs
// BAD_INPUT_ONLY=<substring> runs only the cases whose name contains it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, request, BayeuxClient, CookieJar, uniqueChannel, stillPendingAfter,
    sleep, BAYEUX_FCGI, SLOW,
} from '../integration/harness.mjs';
import { cases, tightCases, LIMITS, TIGHT } from './cases.mjs';
import { checkAnswer, match, substitute, bytesOf, describePattern } from './wire.mjs';
import { scenarios, PENDING_MS } from './scenarios.mjs';
import { startCanaries } from './canary.mjs';

const T = { timeout: 30000 * SLOW };
// --timeout of both instances: every held connect of a case is answered by
// the case; the timeout must stay well past how long a case waits for the
// responder to notice a reset client (scenarios.mjs NOTICE_MS), or the
// timeout would free the poll and hide whether the responder noticed
const MAIN_TIMEOUT_MS = 30000;
const TIGHT_TIMEOUT_MS = 30000;
const only = process.env.BAD_INPUT_ONLY || '';

// ------------------------------------------------ options this build knows

const help = spawnSync(BAYEUX_FCGI, ['--help'], { encoding: 'utf8' }).stdout || '';
const missingOptions = [];
/** [option, value] when the responder has the option, else nothing (noted). */
function opt(name, value) {
    if (help.includes(name)) return [name, String(value)];
    missingOptions.push(name);
    return [];
}
const mainArgs = [
    '--timeout', String(MAIN_TIMEOUT_MS), '--max-body', String(LIMITS.maxBody),
    ...opt('--max-batch', LIMITS.maxBatch), ...opt('--max-message', LIMITS.maxMessage),
    ...opt('--max-subscriptions', LIMITS.maxSubscriptions),
    ...opt('--publish-rate', LIMITS.publishRate), ...opt('--publish-burst', LIMITS.publishBurst),
];
const tightArgs = [
    '--timeout', String(TIGHT_TIMEOUT_MS), ...opt('--max-sessions', TIGHT.maxSessions), ...opt('--max-polls', TIGHT.maxPolls),
];
if (missingOptions.length) {
    console.log(`# this responder has no ${missingOptions.join(', ')}: the cases of those limits will fail`);
}

// --------------------------------------------------------------- a case run

let seq = 0;

/** The context of one case: its fixtures, placeholders and helpers. */
function makeContext(srv, agent) {
    const n = ++seq;
    const ctx = {
        url: srv.url, port: srv.port, responderPid: srv.responderPid, agent, clients: {}, extra: [], held: {},
        vars: {
            CH: uniqueChannel('/bad'), CH2: uniqueChannel('/bad'), ROOM: `r${process.pid}x${n}`, ROOM2: `q${process.pid}x${n}`,
            ORIGIN: srv.origin, HTTPSORIGIN: srv.origin.replace(/^http:/, 'https:'),
        },
    };
    ctx.client = (opts = {}) => {
        const c = new BayeuxClient(ctx.url, { agent, ...opts });
        ctx.extra.push(c);
        return c;
    };
    ctx.send = (spec, opts = {}) => send(ctx, spec, opts);
    ctx.drain = async (name) => {
        const c = ctx.clients[name];
        const r = await c.connect({ timeout: 0 });
        assert.equal(r.reply && r.reply.successful, true, `drain of ${name}: ${JSON.stringify(r.all)}`);
        return { messages: r.messages, raw: c.lastResponse.text };
    };
    ctx.checkDelivered = (d) => checkDelivered(ctx, d);
    /** n started sessions as A, B, C (CID, CID2, CID3), with subscriptions. */
    ctx.started = async (count, subs = {}) => {
        const names = ['A', 'B', 'C'].slice(0, count);
        const out = [];
        for (const [i, name] of names.entries()) {
            const c = ctx.client();
            await c.start(subs[name] || []);
            ctx.clients[name] = c;
            ctx.vars[i ? `CID${i + 1}` : 'CID'] = c.clientId;
            out.push(c);
        }
        if (ctx.vars.CID) ctx.vars.CIDUPPER = ctx.vars.CID.toUpperCase();
        return out;
    };
    return ctx;
}

async function setUp(ctx, c) {
    const needs = c.needs || [];
    const subs = substitute(c.subscribe || {}, ctx.vars);
    if (needs.includes('chat')) {
        const seats = [['A', 'u1', '$ROOM'], ['B', 'u2', '$ROOM'], ['C', 'u3', '$ROOM2']];
        for (const [i, [name, user, room]] of seats.entries()) {
            const r = substitute(room, ctx.vars);
            const cl = ctx.client();
            await cl.start([`/chat/${r}`]);
            const j = await cl.publish('/service/members', { user, room: r });
            assert.equal(j && j.successful, true, `fixture ${user} joins ${r}: ${JSON.stringify(j)}`);
            ctx.clients[name] = cl;
            ctx.vars[i ? `CID${i + 1}` : 'CID'] = cl.clientId;
        }
        for (const name of ['A', 'B', 'C']) await ctx.drain(name);   // the join notices
    }
    if (needs.includes('A') || needs.includes('A+')) {
        const a = ctx.client();
        const hs = await a.handshake();
        assert.equal(hs && hs.successful, true, `fixture handshake: ${JSON.stringify(hs)}`);
        for (const s of subs.A || []) assert.equal((await a.subscribe(s)).successful, true, `fixture subscribes ${s}`);
        if (needs.includes('A+')) assert.equal((await a.connect()).reply.successful, true, 'fixture first connect');
        ctx.clients.A = a;
        ctx.vars.CID = a.clientId;
        ctx.vars.CIDUPPER = a.clientId.toUpperCase();
    }
    for (const [name, v] of [['B', 'CID2'], ['C', 'CID3']]) {
        if (!needs.includes(name)) continue;
        const cl = ctx.client();
        await cl.start(subs[name] || []);
        ctx.clients[name] = cl;
        ctx.vars[v] = cl.clientId;
    }
    if (needs.includes('W')) {
        const w = ctx.client();
        await w.start([ctx.vars.CH]);
        ctx.clients.W = w;
    }
}

/** Disconnects every session the case made (errors ignored: some ended already). */
async function tearDown(ctx) {
    await Promise.all(ctx.extra.filter((c) => c.clientId).map((c) =>
        c.send([{ channel: '/meta/disconnect', clientId: c.clientId }]).catch(() => {})));
    // held requests end with their sessions; a server that does not answer
    // them has failed the case already and must not stall the next one
    await Promise.race([Promise.all(Object.values(ctx.held).map((h) => h.promise)), sleep(5000 * SLOW)]);
}

/** Sends the request of a case or step: { status, headers, text, elapsed }. */
function send(ctx, spec, { timeoutMs } = {}) {
    spec = { ...spec };
    const headers = substitute({ ...(spec.headers || {}) }, ctx.vars);
    const noContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type' && headers[h] === null);
    for (const h of Object.keys(headers)) if (headers[h] === null) delete headers[h];
    let query = '';
    let method = spec.method || 'POST';
    let body;
    if (spec.jsonp) {
        method = spec.method || 'GET';
        const m = substitute(spec.jsonp.message, ctx.vars);
        query = `message=${encodeURIComponent(typeof m === 'string' ? m : JSON.stringify(m))}&jsonp=${encodeURIComponent(spec.jsonp.callback)}`;
    } else if (spec.query !== undefined) {
        query = substitute(spec.query, ctx.vars);
    }
    if (spec.form !== undefined) body = Buffer.from(substitute(spec.form, ctx.vars), 'latin1');
    else if (spec.bytes) body = bytesOf(spec.bytes, ctx.vars);
    else if (typeof spec.body === 'string') body = substitute(spec.body, ctx.vars);
    else if (spec.body !== undefined) body = JSON.stringify(substitute(spec.body, ctx.vars));
    const who = spec.cookie || (ctx.clients.A ? 'A' : 'none');
    const jar = who === 'none' ? new CookieJar() : ctx.clients[who].jar;
    return request(ctx.url + (spec.path || '') + (query ? `?${query}` : ''), {
        method, body, headers, cookieJar: jar, agent: ctx.agent, chunked: spec.chunked, noContentType,
        timeoutMs: timeoutMs || 60000 * SLOW,
    });
}

/** delivered: [patterns] for W; { raw: fn } on W's raw reply; { NAME: fn | [patterns] }. */
async function checkDelivered(ctx, d) {
    const spec = Array.isArray(d) || typeof d.raw === 'function' ? { W: d } : d;
    for (const [name, want] of Object.entries(spec)) {
        const got = await ctx.drain(name);
        const where = `delivered to ${name}: ${got.raw.slice(0, 600)}`;
        if (Array.isArray(want)) match(got.messages, substitute(want, ctx.vars), ctx, where);
        else if (typeof want.raw === 'function') assert.ok(want.raw(got.raw), where);
        else assert.ok(want(got.messages), `${where} fails ${want.toString().slice(0, 160)}`);
    }
}

async function runSteps(ctx, c) {
    for (const [i, step] of c.steps.entries()) {
        const what = `${c.name}, step ${i + 1}`;
        if (step.sleep) await sleep(step.sleep);
        if (step.sleepVar) await sleep(Number(ctx.vars[step.sleepVar]) + 20);
        if (step.release) {
            const r = await ctx.clients[step.release].publish('/service/echo', 'release');
            assert.equal(r && r.successful, true, `${what}: release publish`);
        }
        if (step.pending) assert.ok(await stillPendingAfter(ctx.held[step.pending].promise, PENDING_MS), `${what}: ${step.pending} is held`);
        if (step.drain) await checkDelivered(ctx, { [step.drain]: step.delivered });
        if (step.request) {
            const t0 = Date.now();
            const p = send(ctx, step.request).then((res) => ({ ...res, answeredAfter: Date.now() - t0 }));
            if (step.hold) {
                ctx.held[step.as] = { promise: p.catch((e) => ({ error: e })) };
                continue;
            }
            await check(ctx, await p, step, what);
        }
        if (step.wait) {
            const res = await ctx.held[step.wait].promise;
            if (res.error) throw res.error;
            await check(ctx, res, step, what);
            if (step.beforeTimeout) {
                assert.ok(res.answeredAfter < MAIN_TIMEOUT_MS, `${what}: answered because of the newer connect, not after its timeout (${res.answeredAfter} ms)`);
            }
        }
    }
}

async function check(ctx, res, step, what) {
    checkAnswer(res, substitute(step.expect, ctx.vars), ctx, what);
    if (step.save) step.save(res, ctx);
    if (step.delivered && !step.drain) await checkDelivered(ctx, step.delivered);
}

async function runCase(srv, agent, c) {
    const ctx = makeContext(srv, agent);
    try {
        await setUp(ctx, c);
        if (c.scenario) await scenarios[c.scenario](ctx, c);
        else if (c.steps) await runSteps(ctx, c);
        else await check(ctx, await send(ctx, c.request), c, c.name);
    } catch (e) {
        const req = c.request ? ` request ${describePattern(c.request).slice(0, 300)};` : '';
        e.message = `${e.message}\n  case "${c.name}":${req} expected ${describePattern(c.expect || 'see steps').slice(0, 300)}` +
            (c.why ? `\n  known: ${c.why}` : '');
        throw e;
    } finally {
        await tearDown(ctx);
    }
}

const failed = [];
function caseTests(getSrv, agent, list) {
    for (const c of list) {
        if (only && !c.name.includes(only)) continue;
        test(c.name, T, async () => {
            try {
                await runCase(getSrv(), agent, c);
            } catch (e) {
                failed.push(c);
                throw e;
            }
        });
    }
}

// ---------------------------------------------------------------- processes

function fdCount(pid) {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** GET /cometd/status (answered to loopback clients): the responder's counts. */
async function status(srv) {
    const res = await request(`${srv.url}/status`, { method: 'GET' });
    assert.equal(res.status, 200, `GET /cometd/status: ${res.status} ${res.text.slice(0, 200)}`);
    return JSON.parse(res.text);
}

async function healthy(srv) {
    assert.equal(srv.currentResponderPid(), srv.responderPid, 'the same responder process as at the start (no crash, no respawn)');
    const info = await srv.stop();
    assert.deepEqual(info.sanitizerReports, [], 'no sanitizer report or crash in the logs');
    assert.equal(info.responderGone, true, 'the responder exited with lighttpd');
}

describe('hostile requests while two canaries chat', () => {
    const fx = useServers(async () => ({ lighttpd: await startLighttpd({ responderArgs: mainArgs }) }));
    const agent = new http.Agent({ keepAlive: false });
    let canaries;
    let baselineFds;

    before(async () => {
        const srv = fx.s.lighttpd;
        const warm = new BayeuxClient(srv.url, { agent });
        await warm.start([]);
        await warm.disconnect();
        await sleep(100);
        baselineFds = fdCount(srv.responderPid);
        canaries = await startCanaries(srv.url, `canary${process.pid}`);
    }, T);

    after(() => {
        if (failed.length) {
            console.log(`# ${failed.length} case(s) failed:`);
            for (const c of failed) console.log(`#   ${c.name}${c.why ? ` -- ${c.why}` : ''}`);
        }
    });

    caseTests(() => fx.s.lighttpd, agent, cases);

    test('while the canaries chat, the only held polls are theirs', T, async () => {
        const st = await status(fx.s.lighttpd);
        assert.ok(st.held_polls <= 2, `held polls: ${st.held_polls} (the canaries hold at most 2): ${JSON.stringify(st)}`);
    });

    test('the canaries received every line of the other exactly once, in order', T, async () => {
        const report = await canaries.stop();
        console.log(`# canaries: ${report.pairs.map((p) => `${p.receiver} heard ${p.heard.length} of ${p.sent.length} from ${p.sender}`).join('; ')}`);
        for (const p of report.pairs) {
            assert.ok(p.sent.length >= (only ? 1 : 10), `${p.sender} published through the run (${p.sent.length} lines)`);
            assert.deepEqual(p.heard, p.sent, `${p.receiver} heard ${p.sender}'s lines: ${p.heard.length} of ${p.sent.length}`);
        }
        assert.deepEqual(report.errors, [], 'the canaries saw no error');
    });

    test('no held poll or socket is left in the responder', T, async () => {
        const pid = fx.s.lighttpd.responderPid;
        const st = await status(fx.s.lighttpd);
        assert.equal(st.held_polls, 0, `no held polls once every session has gone: ${JSON.stringify(st)}`);
        const until = Date.now() + 3000 * SLOW;
        let n = fdCount(pid);
        while (n > baselineFds && Date.now() < until) {
            await sleep(100);
            n = fdCount(pid);
        }
        assert.ok(n <= baselineFds, `the responder holds ${n} descriptors, ${baselineFds} before the run: ` +
            fs.readdirSync(`/proc/${pid}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return '?'; } }).join(' '));
    });

    test('the responder was never restarted and reported no sanitizer errors', T, async () => {
        await healthy(fx.s.lighttpd);
    });
});

describe(`global limits: --max-sessions ${TIGHT.maxSessions}, --max-polls ${TIGHT.maxPolls}`, () => {
    const fx = useServers(async () => ({ lighttpd: await startLighttpd({ responderArgs: tightArgs }) }));
    const agent = new http.Agent({ keepAlive: false });
    caseTests(() => fx.s.lighttpd, agent, tightCases);
    test('the responder was never restarted and reported no sanitizer errors', T, async () => {
        await healthy(fx.s.lighttpd);
    });
});
