// wire: raw HTTP/1.1 over a socket (byte-exact requests, slow drips, resets)
// and the matcher that compares an answer with what a case expects.
//
// Used by catalogue.test.mjs; it imports nothing from the cases.
import net from 'node:net';
import assert from 'node:assert/strict';
import { sleep } from '../integration/harness.mjs';

/** In a reply pattern: the field must be absent. */
export const ABSENT = Symbol('absent');
/** In a reply pattern: the field must be present (any value). */
export const PRESENT = Symbol('present');

/**
 * Sends one request over a fresh socket and reads the answer until the server
 * closes (the request says Connection: close).
 *   head: the request line and headers, without the final CRLF CRLF
 *   body: Buffer (may be empty)
 *   dripMs: write the whole request one byte every dripMs ms
 *   resetAfterMs: after writing, wait this long and reset the socket (RST);
 *     resolves { reset: true, bytes } with what had arrived by then
 *   control: an object that gets reset(), to reset the socket at any time
 *     (same result)
 *   partial: send only this many bytes of the request
 *   timeoutMs: give up (and destroy the socket) after this long
 * Returns { status, headers, text, body } (headers lower-cased).
 */
export function rawRequest(port, { head, body = Buffer.alloc(0), dripMs = 0, resetAfterMs = null, partial = null, control = null, timeoutMs = 30000 }) {
    return new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1');
        const chunks = [];
        let done = false;
        const finish = (fn, v) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            fn(v);
        };
        const timer = setTimeout(() => {
            sock.destroy();
            finish(reject, new Error(`raw request: no complete answer within ${timeoutMs} ms (got ${Buffer.concat(chunks).length} bytes)`));
        }, timeoutMs);
        sock.on('data', (d) => chunks.push(d));
        const reset = () => {
            const got = Buffer.concat(chunks);
            sock.resetAndDestroy();
            finish(resolve, { reset: true, bytes: got.length });
        };
        if (control) control.reset = reset;
        sock.on('error', (e) => finish(reject, e));
        sock.on('end', () => {
            try {
                finish(resolve, parseResponse(Buffer.concat(chunks)));
            } catch (e) {
                finish(reject, e);
            }
        });
        sock.once('connect', async () => {
            const bytes = Buffer.concat([Buffer.from(head + '\r\n\r\n', 'latin1'), body]);
            const toSend = partial === null ? bytes : bytes.subarray(0, partial);
            try {
                if (dripMs > 0) {
                    for (let i = 0; i < toSend.length && !done; i++) {
                        sock.write(toSend.subarray(i, i + 1));
                        await sleep(dripMs);
                    }
                } else {
                    sock.write(toSend);
                }
                if (resetAfterMs !== null) {
                    await sleep(resetAfterMs);
                    reset();
                }
            } catch (e) {
                finish(reject, e);
            }
        });
    });
}

/** Parses an HTTP/1.1 response (Content-Length, chunked, or read to close). */
export function parseResponse(buf) {
    const sep = buf.indexOf('\r\n\r\n');
    if (sep < 0) throw new Error(`not an HTTP response: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
    const lines = buf.subarray(0, sep).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const headers = {};
    for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let body = buf.subarray(sep + 4);
    if (/chunked/i.test(headers['transfer-encoding'] || '')) {
        const out = [];
        let off = 0;
        for (;;) {
            const eol = body.indexOf('\r\n', off);
            if (eol < 0) break;
            const n = parseInt(body.subarray(off, eol).toString('latin1'), 16);
            if (!n) break;
            out.push(body.subarray(eol + 2, eol + 2 + n));
            off = eol + 2 + n + 2;
        }
        body = Buffer.concat(out);
    } else if (headers['content-length'] !== undefined) {
        body = body.subarray(0, Number(headers['content-length']));
    }
    return { status: Number(m[1]), headers, body, text: body.toString('utf8') };
}

// ---------------------------------------------------------------------------
// substitution of the case's placeholders ($CID, $CH, ...)

/** Replaces every $NAME of vars in strings inside v (objects, arrays, Buffers
 * kept); the longest name wins, so "$CID0" is $CID followed by "0". */
export function substitute(v, vars) {
    if (typeof v === 'string') {
        if (!v.includes('$')) return v;
        const names = Object.keys(vars).filter((k) => /^[A-Z][A-Z0-9]*$/.test(k)).sort((a, b) => b.length - a.length);
        if (!names.length) return v;
        const re = new RegExp(`\\$(${names.join('|')})`, 'g');
        return v.replace(re, (all, name) => String(vars[name]));
    }
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof RegExp) return v;
    if (Array.isArray(v)) return v.map((x) => substitute(x, vars));
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = substitute(x, vars);
    return out;
}

/** A body given as parts (strings and byte arrays) joined into one Buffer. */
export function bytesOf(parts, vars) {
    return Buffer.concat([].concat(parts).map((p) => {
        if (Buffer.isBuffer(p)) return p;
        if (Array.isArray(p)) return Buffer.from(p);
        return Buffer.from(substitute(String(p), vars), 'utf8');
    }));
}

// ---------------------------------------------------------------------------
// matching answers against patterns

/**
 * Asserts that `actual` matches `pattern`:
 *   RegExp: a string it matches; ABSENT / PRESENT: the field is absent / set;
 *   function: (value, ctx) returns true; array: same length, each matching;
 *   object: every key of the pattern matches (other keys are free);
 *   anything else: strictly equal.
 */
export function match(actual, pattern, ctx, where = 'reply') {
    if (pattern === ABSENT) {
        assert.equal(actual, undefined, `${where} must be absent, is ${JSON.stringify(actual)}`);
    } else if (pattern === PRESENT) {
        assert.notEqual(actual, undefined, `${where} must be present`);
    } else if (pattern instanceof RegExp) {
        assert.equal(typeof actual, 'string', `${where} must be a string matching ${pattern}, is ${JSON.stringify(actual)}`);
        assert.match(actual, pattern, `${where}`);
    } else if (typeof pattern === 'function') {
        assert.ok(pattern(actual, ctx), `${where}: ${JSON.stringify(actual)} fails ${pattern.toString().slice(0, 120)}`);
    } else if (Array.isArray(pattern)) {
        assert.ok(Array.isArray(actual), `${where} must be an array, is ${JSON.stringify(actual)}`);
        assert.equal(actual.length, pattern.length, `${where}: ${actual.length} elements, expected ${pattern.length}: ${JSON.stringify(actual).slice(0, 600)}`);
        pattern.forEach((p, i) => match(actual[i], p, ctx, `${where}[${i}]`));
    } else if (pattern !== null && typeof pattern === 'object') {
        assert.ok(actual !== null && typeof actual === 'object', `${where} must be an object, is ${JSON.stringify(actual)}`);
        for (const [k, p] of Object.entries(pattern)) match(actual[k], p, ctx, `${where}.${k}`);
    } else {
        assert.deepEqual(actual, pattern, `${where}`);
    }
}

/** The array inside `/**\/cb([...]);`, or undefined. */
export function unwrapJsonp(text, cb) {
    const t = text.trim().replace(/^\/\*\*\/\s*/, '').replace(/;$/, '');
    if (!t.startsWith(`${cb}(`) || !t.endsWith(')')) return undefined;
    try { return JSON.parse(t.slice(cb.length + 1, -1)); } catch { return undefined; }
}

/**
 * Checks an HTTP answer { status, headers, text } against expect:
 *   status, text (RegExp for a text/plain error), allow (RegExp),
 *   replies (the reply array, exactly), includes (patterns each matching
 *   some element), jsonp (callback name the body must be wrapped in),
 *   check(res, ctx) for anything else.
 */
export function checkAnswer(res, expect, ctx, what) {
    const body = `${res.status} ${res.headers['content-type'] || ''}: ${res.text.slice(0, 400)}`;
    if (expect.status !== undefined) assert.equal(res.status, expect.status, `${what}: HTTP status (${body})`);
    if (expect.text) {
        assert.match(res.headers['content-type'] || '', /^text\/plain/i, `${what}: text/plain (${body})`);
        assert.match(res.text, expect.text, `${what}: error text ${JSON.stringify(res.text.slice(0, 200))}`);
        assert.ok(res.text.length < 1024, `${what}: short error text`);
    }
    if (expect.allow) assert.match(res.headers.allow || '', expect.allow, `${what}: Allow header`);
    if (expect.replies || expect.includes) {
        let arr;
        if (expect.jsonp) {
            assert.match(res.headers['content-type'] || '', /^text\/javascript;\s*charset=utf-8$/i, `${what}: JSONP content type (${body})`);
            arr = unwrapJsonp(res.text, expect.jsonp);
            assert.ok(Array.isArray(arr), `${what}: body is /**/${expect.jsonp}([...]); (${body})`);
        } else {
            assert.match(res.headers['content-type'] || '', /^application\/json;\s*charset=utf-8$/i, `${what}: JSON content type (${body})`);
            try { arr = JSON.parse(res.text); } catch (e) { assert.fail(`${what}: the reply is not valid JSON (${e.message}): ${res.text.slice(0, 400)}`); }
        }
        if (expect.replies) {
            try {
                match(arr, expect.replies, ctx, `${what}: replies`);
            } catch (e) {
                e.message += `\n  the replies: ${res.text.slice(0, 600)}`;
                throw e;
            }
        }
        for (const p of expect.includes || []) {
            const ok = arr.some((r) => { try { match(r, p, ctx); return true; } catch { return false; } });
            assert.ok(ok, `${what}: no reply matches ${describePattern(p)} in ${JSON.stringify(arr).slice(0, 800)}`);
        }
        res.replies = arr;
    }
    if (expect.check) expect.check(res, ctx);
}

export function describePattern(p) {
    return JSON.stringify(p, (k, v) => (v === ABSENT ? '<absent>' : v === PRESENT ? '<present>' : v instanceof RegExp ? v.toString() : typeof v === 'function' ? '<fn>' : v));
}

// ---------------------------------------------------------------------------
// numbers compared by value, as decimal text (no double rounding)

/** Canonical form of a JSON number's text: sign, digits, exponent; -0 is 0. */
export function decimalKey(text) {
    const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
    if (!m) return `NaN(${text})`;
    let digits = (m[2] + (m[3] || '')).replace(/^0+/, '');
    let exp = BigInt(m[4] || 0) - BigInt((m[3] || '').length);
    if (!digits) return '0';
    while (digits.endsWith('0')) { digits = digits.slice(0, -1); exp += 1n; }
    return `${m[1]}${digits}e${exp}`;
}

/** The raw texts of the numbers following `"key":` in a JSON text. */
export function rawNumbers(text, key) {
    const re = new RegExp(`"${key}":(-?[0-9][0-9.eE+-]*)`, 'g');
    return [...text.matchAll(re)].map((m) => m[1]);
}
