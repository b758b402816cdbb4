// cases: the catalogue of hostile requests and the answer each must get.
//
// A case is data: { name, needs, request | steps | scenario, expect,
// delivered, why }; scenario names a function of scenarios.mjs (raw
// sockets, several sessions at once).  catalogue.test.mjs runs the cases in
// order against one lighttpd + bayeux-fcgi while two canaries chat;
// `tightCases` run against a second instance with tiny global limits.
//
// needs (fixtures, fresh for every case; all disconnected afterwards):
//   'A'   a handshaken session (no connect yet): $CID, its cookie jar
//   'A+'  the same, after its first connect (a further connect is held)
//   'B', 'C'  more started sessions: $CID2, $CID3 (own cookie jars)
//   'W'   a started session subscribed to $CH; `delivered` is what it
//         must receive (drained after the request), exactly
//   'chat'  A, B in /chat/$ROOM as u1, u2; C in /chat/$ROOM2 as u3
// subscribe: { A: [...], C: [...] } extra subscriptions of the fixtures.
//
// request: { method (POST), path, query, headers, body (a JSON value or a
//   string), bytes (parts: strings and byte arrays, joined),
//   form (raw urlencoded text), jsonp:
//   { message, callback } (a GET), cookie: 'A' | 'B' | 'none', chunked }.
// $CID, $CID2, $CID3, $CIDUPPER, $CH, $CH2, $ROOM, $ROOM2, $ORIGIN (this
// server, http://127.0.0.1:PORT) and $HTTPSORIGIN are replaced in every string.
//
// expect: { status, text (RegExp, a text/plain error), allow, replies (the
//   reply array, exactly; see wire.mjs match), includes, jsonp, check(res) }.
// delivered: [patterns] W must receive, exactly; { raw: fn(text) } on W's
//   drained reply; { A | B | C: fn(messages) | [patterns] } for others.
// steps: [{ request, expect, save(res, ctx) }, { request, hold, as },
//   { pending: as }, { wait: as, expect, beforeTimeout }, { release: 'A' }
//   (a message to A ends its held connect), { drain: 'A', delivered },
//   { sleep: ms }, { sleepVar: NAME }] run in order (catalogue.test.mjs).
// why: the reason for an answer that the server does not give yet.
import assert from 'node:assert/strict';
import { ABSENT, PRESENT, decimalKey, rawNumbers } from './wire.mjs';

// The limits the main instance runs with (passed when the build has them).
export const LIMITS = {
    maxBody: 262144, maxBatch: 20, maxMessage: 8192, maxSubscriptions: 5,
    publishRate: 20, publishBurst: 10,
};
export const TIGHT = { maxSessions: 4, maxPolls: 2 };

const HS_ADVICE = { reconnect: 'handshake', interval: 0 };
const CID_RE = /^[0-9a-f]{32,}$/;

const hs = (x = {}) => ({ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: 't', ...x });
const conn = (x = {}) => ({ channel: '/meta/connect', clientId: '$CID', connectionType: 'long-polling', id: 't', ...x });
const sub = (x = {}) => ({ channel: '/meta/subscribe', clientId: '$CID', subscription: '$CH', id: 't', ...x });
const unsub = (x = {}) => ({ channel: '/meta/unsubscribe', clientId: '$CID', subscription: '$CH', id: 't', ...x });
const disc = (x = {}) => ({ channel: '/meta/disconnect', clientId: '$CID', id: 't', ...x });
const pub = (x = {}) => ({ channel: '$CH', clientId: '$CID', data: { n: 1 }, id: 't', ...x });

const bad = (text, status = 400) => ({ status, text });
const ok = (...replies) => ({ status: 200, replies });
const fail = (channel, error, x = {}) => ({ channel, successful: false, error, ...x });
const handshakeOk = (x = {}) => ({ channel: '/meta/handshake', successful: true, clientId: CID_RE, ...x });
const missingId = (channel) => fail(channel, '402::client_id_missing', { advice: HS_ADVICE });
const unknownId = (channel, x = {}) => fail(channel, '402::session_unknown', { advice: HS_ADVICE, ...x });
const MALFORMED = /malformed JSON/;
const TRUNCATED = /truncated JSON/;
const BAD_CALLBACK = /invalid jsonp callback name/;
const deep = (n) => '['.repeat(n) + ']'.repeat(n);
const deepObj = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
const pct = (bytes) => bytes.map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');

// ------------------------------------------------ wrong JSON types per field

const WRONG = { number: 42, string: 'x', boolean: true, null: null, array: [], object: {} };
const argOf = { number: '42', string: 'x', boolean: 'true', null: 'null', array: '', object: '{}' };

/** One case per (field, type): the message with that field set to the value. */
function typeCases(kind, base, needs, field, types, expectFor, extra = {}) {
    return types.map((type) => {
        const v = WRONG[type];
        const msg = field.includes('.') ? base({ [field.split('.')[0]]: { [field.split('.')[1]]: v } }) : base({ [field]: v });
        return { name: `${kind}: ${field} is ${type === 'null' ? 'null' : `a${/^[ao]/.test(type) ? 'n' : ''} ${type}`}`, group: 'types', needs, request: { body: [msg] }, ...expectFor(type, v), ...extra };
    });
}
const answered = (r) => ({ expect: ok(r) });

const typeCatalogue = [
    ...typeCases('handshake', hs, [], 'version', ['number', 'boolean', 'null', 'array', 'object'],
        (t) => answered(fail('/meta/handshake', `300:${argOf[t]}:version_unsupported`, { id: 't' }))),
    ...typeCases('handshake', hs, [], 'supportedConnectionTypes', ['string', 'number', 'boolean', 'null', 'array', 'object'],
        (t) => answered(fail('/meta/handshake', `301:${argOf[t]}:connection_type_unsupported`, { id: 't' }))),
    ...typeCases('handshake', hs, [], 'id', ['object', 'array', 'boolean', 'null'], () => answered(handshakeOk({ id: ABSENT }))),
    ...typeCases('handshake', hs, [], 'ext', ['number', 'string', 'array', 'null'], () => answered(handshakeOk({ id: 't' }))),
    ...typeCases('handshake', hs, [], 'advice', ['number', 'string', 'array'], () => answered(handshakeOk({ id: 't' }))),
    ...typeCases('handshake', hs, [], 'minimumVersion', ['number', 'object'], () => answered(handshakeOk({ id: 't' }))),

    ...typeCases('connect', conn, ['A'], 'clientId', ['number', 'boolean', 'null', 'array', 'object'],
        () => answered({ ...missingId('/meta/connect'), id: 't' })),
    ...typeCases('connect', conn, ['A'], 'connectionType', ['string', 'number', 'null', 'array', 'object'],
        (t) => answered(fail('/meta/connect', `301:${argOf[t]}:connection_type_unsupported`, { id: 't' }))),
    ...typeCases('connect', conn, ['A'], 'advice', ['number', 'string', 'array', 'null'],
        () => answered({ channel: '/meta/connect', id: 't', successful: true })),
    ...typeCases('connect', conn, ['A'], 'advice.timeout', ['string', 'null', 'array', 'object', 'boolean'],
        () => answered({ channel: '/meta/connect', id: 't', successful: true })),
    ...typeCases('connect', conn, ['A'], 'id', ['object', 'array', 'boolean', 'null'],
        () => answered({ channel: '/meta/connect', id: ABSENT, successful: true })),
    ...typeCases('connect', conn, ['A'], 'ext', ['number', 'string', 'array', 'null'],
        () => answered({ channel: '/meta/connect', id: 't', successful: true })),

    ...['subscribe', 'unsubscribe'].flatMap((kind) => {
        const base = kind === 'subscribe' ? sub : unsub;
        const ch = `/meta/${kind}`;
        return [
            ...typeCases(kind, base, ['A'], 'clientId', ['number', 'boolean', 'null', 'array', 'object'],
                () => answered({ ...missingId(ch), id: 't' })),
            ...typeCases(kind, base, ['A'], 'subscription', ['number', 'boolean', 'null', 'object', 'array'],
                () => answered(fail(ch, '400::subscription_missing', { id: 't' }))),
            ...typeCases(kind, base, ['A'], 'id', ['object', 'array', 'boolean', 'null'],
                () => answered({ channel: ch, id: ABSENT, subscription: '$CH', successful: true })),
            ...typeCases(kind, base, ['A'], 'ext', ['number', 'string', 'array', 'null'],
                () => answered({ channel: ch, id: 't', subscription: '$CH', successful: true })),
        ];
    }),
    { name: 'subscribe: subscription is [42]', group: 'types', needs: ['A'], request: { body: [sub({ subscription: [42] })] },
        expect: ok(fail('/meta/subscribe', '405:42:channel_invalid', { id: 't', subscription: [42] })) },
    { name: 'subscribe: subscription is [null, "$CH"]', group: 'types', needs: ['A'], request: { body: [sub({ subscription: [null, '$CH'] })] },
        expect: ok(fail('/meta/subscribe', '405:null:channel_invalid', { id: 't' })) },
    { name: 'subscribe: subscription is [[]]', group: 'types', needs: ['A'], request: { body: [sub({ subscription: [[]] })] },
        expect: ok(fail('/meta/subscribe', '405:[]:channel_invalid', { id: 't' })) },

    ...typeCases('disconnect', disc, ['A'], 'clientId', ['number', 'boolean', 'null', 'array', 'object'],
        () => answered({ ...missingId('/meta/disconnect'), id: 't' })),
    ...typeCases('disconnect', disc, ['A'], 'id', ['object', 'array', 'boolean', 'null'],
        () => answered({ channel: '/meta/disconnect', id: ABSENT, successful: true })),
    ...typeCases('disconnect', disc, ['A'], 'ext', ['number', 'string', 'array', 'null'],
        () => answered({ channel: '/meta/disconnect', id: 't', successful: true })),

    ...typeCases('publish', pub, ['A', 'W'], 'channel', ['number', 'boolean', 'null', 'array', 'object'],
        () => ({ expect: ok(fail(ABSENT, '400::channel_missing', { id: 't' })), delivered: [] })),
    ...typeCases('publish', pub, ['A', 'W'], 'clientId', ['number', 'boolean', 'null', 'array', 'object'],
        () => ({ expect: ok({ ...missingId('$CH'), id: 't' }), delivered: [] })),
    ...typeCases('publish', pub, ['A', 'W'], 'data', ['number', 'string', 'boolean', 'null', 'array', 'object'],
        (t, v) => ({ expect: ok({ channel: '$CH', id: 't', successful: true }), delivered: [{ data: v }] })),
    ...typeCases('publish', pub, ['A', 'W'], 'id', ['object', 'array', 'boolean', 'null'],
        () => ({ expect: ok({ channel: '$CH', id: ABSENT, successful: true }), delivered: [{ data: { n: 1 }, id: ABSENT }] })),
    ...typeCases('publish', pub, ['A', 'W'], 'ext', ['number', 'string', 'array', 'null'],
        () => ({ expect: ok({ channel: '$CH', id: 't', successful: true }), delivered: [{ data: { n: 1 } }] })),
    { name: 'publish: data missing', group: 'types', needs: ['A', 'W'], request: { body: [{ channel: '$CH', clientId: '$CID', id: 't' }] },
        expect: ok(fail('$CH', '400::data_missing', { id: 't' })), delivered: [] },
];

// Connects whose advice.timeout the server must ignore (wrong type, out of
// range): held for the server's timeout, released here by a message.
const heldConnect = (name, adviceText, why) => ({
    name, group: 'types', needs: ['A+'], why,
    steps: [
        { request: { body: `[{"channel":"/meta/connect","clientId":"$CID","connectionType":"long-polling","id":"held","advice":${adviceText}}]` }, hold: true, as: 'c' },
        { pending: 'c' },
        { release: 'A' },
        { wait: 'c', expect: { status: 200, includes: [{ channel: '/meta/connect', id: 'held', successful: true }, { channel: '/service/echo' }] } },
    ],
});
const heldCatalogue = [
    heldConnect('connect: advice.timeout is the string "0" (ignored: held)', '{"timeout":"0"}'),
    heldConnect('connect: advice.timeout is null (ignored: held)', '{"timeout":null}'),
    heldConnect('connect: advice.timeout is -1 (ignored: held)', '{"timeout":-1}'),
    heldConnect('connect: advice is the string "timeout=0" (ignored: held)', '"timeout=0"'),
];

// ------------------------------------------------------------- JSON syntax

const jsonBodies = [
    ['single quotes', "[{'channel':'/meta/handshake'}]", MALFORMED],
    ['unquoted key', '[{channel:"/meta/handshake"}]', MALFORMED],
    ['trailing comma in an object', '[{"channel":"/meta/handshake",}]', MALFORMED],
    ['trailing comma in the batch', '[{"channel":"/meta/handshake"},]', MALFORMED],
    ['a comment', '/* hi */[{"channel":"/meta/handshake"}]', MALFORMED],
    ['a hex number', '[{"channel":"/meta/handshake","id":0x10}]', MALFORMED],
    ['a leading zero', '[{"channel":"/meta/handshake","id":010}]', MALFORMED],
    ['an invalid escape', '[{"channel":"/meta/hand\\x73hake"}]', MALFORMED],
    ['a short \\u escape', '[{"channel":"/meta/handshake","id":"\\u12"}]', MALFORMED],
    ['two values without a comma', '[{"channel":"/meta/handshake"} {"channel":"/meta/handshake"}]', MALFORMED],
    ['a missing colon', '[{"channel" "/meta/handshake"}]', MALFORMED],
    ['a misspelt literal', '[{"channel":"/meta/handshake","ext":tru}]', MALFORMED],
    ['an unclosed inner array', '[{"channel":"/meta/handshake","ext":[1,2}]', MALFORMED],
    ['a UTF-8 byte order mark', '\ufeff[{"channel":"/meta/handshake"}]', MALFORMED],
    ['trailing garbage', '[{"channel":"/meta/handshake"}] garbage', /trailing data|malformed JSON/],
    ['a second JSON document', '[{"channel":"/meta/handshake"}][{"channel":"/meta/handshake"}]', /trailing data|malformed JSON/],
    ['an extra closing bracket', '[{"channel":"/meta/handshake"}]]', /trailing data|malformed/],
    ['a bare string', '"/meta/handshake"', /JSON array of messages/],
    ['a bare number', '42', /JSON array of messages|truncated JSON/],
    ['null', 'null', /JSON array of messages|truncated JSON/],
    ['an empty batch', '[]', /empty message batch/],
    ['a batch of arrays', '[[{"channel":"/meta/handshake"}]]', /must be a JSON object/],
    ['a batch with a number', '[{"channel":"/meta/handshake"},3]', /must be a JSON object/],
    ['truncated: "["', '[', TRUNCATED],
    ['truncated inside an object', '[{"channel":"/meta/handshake"', TRUNCATED],
    ['truncated inside a string', '{"channel":"/meta/hand', TRUNCATED],
    ['truncated inside a number', '[{"channel":"/meta/handshake","id":12', TRUNCATED],
    ['truncated after a key', '[{"channel"', TRUNCATED],
    ['whitespace only', ' \r\n\t ', TRUNCATED],
];
const jsonCatalogue = [
    ...jsonBodies.map(([what, body, text]) => ({ name: `malformed JSON: ${what}`, group: 'json', request: { body: String(body) }, expect: bad(text) })),
    ...['NaN', 'Infinity', '-Infinity'].map((lit) => ({
        name: `malformed JSON: ${lit} as data`, group: 'json', needs: ['A', 'W'],
        // json-c accepts it; relayed, it would make every subscriber's reply unparseable
        request: { body: `[{"channel":"$CH","clientId":"$CID","data":${lit}}]` }, expect: bad(/NaN and Infinity are not JSON/), delivered: [],
    })),
    { name: 'nesting: depth 64 (the limit) is accepted', group: 'json',
        request: { body: `[{"channel":"/meta/handshake","version":"1.0","id":"t","ext":${deep(62)}}]` }, expect: ok(handshakeOk({ id: 't' })) },
    { name: 'nesting: depth 64 published is delivered intact', group: 'json', needs: ['A', 'W'],
        request: { body: `[{"channel":"$CH","clientId":"$CID","data":${deep(62)}}]` }, expect: ok({ successful: true }),
        delivered: [{ data: JSON.parse(deep(62)) }] },
    { name: 'nesting: depth 65 (arrays) is refused', group: 'json',
        request: { body: `[{"channel":"/meta/handshake","version":"1.0","ext":${deep(63)}}]` }, expect: bad(MALFORMED) },
    { name: 'nesting: depth 65 (objects) is refused', group: 'json',
        request: { body: `[{"channel":"/meta/handshake","version":"1.0","ext":${deepObj(63)}}]` }, expect: bad(MALFORMED) },
    { name: 'nesting: depth 100,000 is refused (no stack exhaustion)', group: 'json',
        request: { body: `[{"channel":"/meta/handshake","ext":${'['.repeat(100000)}` }, expect: bad(MALFORMED) },
];

// ----------------------------------------------------------------- numbers

const numberCase = (what, text, why) => ({
    name: `huge numbers: data ${what}`, group: 'numbers', needs: ['A', 'W'], why,
    request: { body: `[{"channel":"$CH","clientId":"$CID","data":${text},"id":"n"}]` },
    expect: ok({ id: 'n', successful: true }),
    delivered: { raw: (t) => rawNumbers(t, 'data').map(decimalKey).join() === decimalKey(text) },
});
const numberCatalogue = [
    numberCase('1e400 (beyond double) arrives as written', '1e400'),
    numberCase('-1e400', '-1e400'),
    numberCase('1e-400 (below the smallest double)', '1e-400'),
    numberCase('-0', '-0'),
    // json-c would clamp integers beyond 64 bits (altering what is relayed,
    // or an id the client matches replies by): refused instead
    ...[['2^64', '18446744073709551616'], ['-2^63-1', '-9223372036854775809'], ['a 400-digit integer', '9'.repeat(400)]].map(([what, text]) => ({
        name: `huge numbers: data ${what} is refused, not clamped`, group: 'numbers', needs: ['A', 'W'],
        request: { body: `[{"channel":"$CH","clientId":"$CID","data":${text},"id":"n"}]` },
        expect: bad(/integer out of the 64-bit range/), delivered: [],
    })),
    numberCase('2^64-1', '18446744073709551615'),
    { name: 'huge numbers: id 2^64 is refused, not clamped', group: 'numbers', needs: ['A'],
        request: { body: '[{"channel":"/meta/connect","clientId":"$CID","connectionType":"long-polling","id":18446744073709551616}]' },
        expect: bad(/integer out of the 64-bit range/) },
    { name: 'huge numbers: id 1e400 is echoed as written', group: 'numbers', needs: ['A'],
        request: { body: '[{"channel":"/meta/connect","clientId":"$CID","connectionType":"long-polling","id":1e400}]' },
        expect: { status: 200, check: (res) => assert.deepEqual(rawNumbers(res.text, 'id'), ['1e400'], 'id echoed as written') } },
    { name: 'huge numbers: advice.timeout -0 answers at once', group: 'numbers', needs: ['A+'],
        request: { body: '[{"channel":"/meta/connect","clientId":"$CID","connectionType":"long-polling","id":"z","advice":{"timeout":-0}}]' },
        expect: ok({ channel: '/meta/connect', id: 'z', successful: true }) },
    heldConnect('huge numbers: advice.timeout 1e400 (the server timeout applies: held)', '{"timeout":1e400}'),
    { name: 'huge numbers: advice.timeout 2^64 is refused, not clamped', group: 'numbers', needs: ['A'],
        request: { body: '[{"channel":"/meta/connect","clientId":"$CID","connectionType":"long-polling","id":"z","advice":{"timeout":18446744073709551616}}]' },
        expect: bad(/integer out of the 64-bit range/) },
];

// ------------------------------------------------------------ huge strings

const M = LIMITS.maxMessage;
const tooLarge = `413:${M}:message_too_large`;
const stringCatalogue = [
    { name: 'huge strings: a message just under --max-message is delivered intact', group: 'strings', needs: ['A', 'W'],
        request: { body: [pub({ data: 'x'.repeat(M - 300) })] }, expect: ok({ id: 't', successful: true }), delivered: [{ data: 'x'.repeat(M - 300) }] },
    { name: 'huge strings: a message just over --max-message gets 413, the rest of the batch is processed', group: 'strings', needs: ['A', 'W'],
        request: { body: [pub({ id: 'big', data: 'y'.repeat(M + 100) }), pub({ id: 'small', data: 'small' })] },
        expect: ok(fail('$CH', tooLarge, { id: 'big' }), { id: 'small', successful: true }), delivered: [{ data: 'small' }] },
    { name: 'huge strings: a 200 KB string in one message gets 413', group: 'strings', needs: ['A', 'W'],
        request: { body: [pub({ id: 'big', data: 'z'.repeat(200000) })] }, expect: ok(fail('$CH', tooLarge, { id: 'big' })), delivered: [] },
    { name: 'huge strings: a handshake with a 10 KB ext is answered (--max-message bounds published messages)', group: 'strings',
        request: { body: [hs({ ext: { pad: 'p'.repeat(M + 2000) } })] }, expect: ok(handshakeOk({ id: 't' })) },
    { name: 'huge strings: an id past --max-message makes the publish too large', group: 'strings', needs: ['A', 'W'],
        request: { body: [pub({ id: 'i'.repeat(M + 10), data: 1 })] }, expect: ok(fail('$CH', tooLarge)), delivered: [] },
    { name: 'huge strings: a 5,000-byte clientId', group: 'strings',
        request: { body: [pub({ clientId: 'a'.repeat(5000) })] }, expect: ok(unknownId('$CH', { id: 't' })) },
    { name: 'huge strings: a 5,000-byte id is echoed', group: 'strings', needs: ['A'],
        request: { body: [conn({ id: 'i'.repeat(5000) })] }, expect: ok({ channel: '/meta/connect', id: 'i'.repeat(5000), successful: true }) },
];

// ------------------------------------------------------------ invalid UTF-8

// the third column: json-c alone would let it through (json_check.c catches it)
const badUtf8 = [
    ['an overlong 2-byte "/"', [0xc0, 0xaf], true],
    ['an overlong 3-byte "/"', [0xe0, 0x80, 0xaf], true],
    ['an overlong 4-byte "/"', [0xf0, 0x80, 0x80, 0xaf], true],
    ['a high surrogate (U+D800)', [0xed, 0xa0, 0x80], true],
    ['a low surrogate (U+DFFF)', [0xed, 0xbf, 0xbf], true],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], true],
    ['the lead byte 0xF5', [0xf5, 0x80, 0x80, 0x80], true],
    ['the byte 0xFF', [0xff]],
    ['a lone continuation byte', [0x80]],
    ['a truncated 2-byte sequence', [0xc3]],
    ['a truncated 3-byte sequence', [0xe2, 0x82]],
    ['a truncated 4-byte sequence', [0xf0, 0x9f, 0x98]],
];
const utf8Catalogue = [
    ...badUtf8.map(([what, bytes, passes]) => ({
        name: `invalid UTF-8 in JSON: ${what} in data`, group: 'utf8', needs: ['A', 'W'], 
        request: { bytes: ['[{"channel":"$CH","clientId":"$CID","data":"a', bytes, 'b"}]'] }, expect: bad(/malformed JSON|invalid UTF-8/), delivered: [],
    })),
    { name: 'invalid UTF-8 in JSON: an overlong sequence in the channel', group: 'utf8', needs: ['A'],
        request: { bytes: ['[{"channel":"/a', [0xc0, 0xaf], 'b","clientId":"$CID","data":1}]'] }, expect: bad(/malformed JSON|invalid UTF-8/) },
    { name: 'invalid UTF-8 in JSON: a sequence cut by the end of the body', group: 'utf8',
        request: { bytes: ['[{"channel":"/meta/handshake"}] ', [0xe2, 0x82]] }, expect: bad(/malformed JSON|trailing|invalid UTF-8/) },
    { name: 'invalid UTF-8 in JSON: ISO-8859-1 text declared as such', group: 'utf8', needs: ['A'],
        request: { headers: { 'Content-Type': 'application/json; charset=ISO-8859-1' }, bytes: ['[{"channel":"$CH","clientId":"$CID","data":"caf', [0xe9], '"}]'] },
        expect: bad(/malformed JSON|invalid UTF-8/) },
    ...[0, 3, 4, 7, 10].map((i) => ({
        name: `invalid UTF-8 in a form body: ${badUtf8[i][0]}`, group: 'utf8', needs: ['A', 'W'], 
        request: { headers: form, form: `message=${encodeURIComponent('[{"channel":"$CH","clientId":"$CID","data":"a')}${pct(badUtf8[i][1])}${encodeURIComponent('"}]')}` },
        expect: bad(/malformed JSON|invalid UTF-8/), delivered: [],
    })),
    // lighttpd refuses this one itself (its own HTML 400): the responder never sees it
    { name: 'invalid UTF-8 in a JSONP GET: an overlong sequence in the message', group: 'utf8',
        request: { method: 'GET', query: `message=${encodeURIComponent('[{"channel":"/meta/handshake","version":"1.0","id":"')}${pct([0xc0, 0xaf])}${encodeURIComponent('"}]')}&jsonp=cb` },
        expect: { status: 400 } },
    { name: 'UTF-8: an escaped lone surrogate becomes U+FFFD', group: 'utf8', needs: ['A', 'W'],
        request: { body: '[{"channel":"$CH","clientId":"$CID","data":"\\ud800x"}]' }, expect: ok({ successful: true }), delivered: [{ data: '\ufffdx' }] },
    { name: 'UTF-8: valid 4-byte characters pass', group: 'utf8', needs: ['A', 'W'],
        request: { body: [pub({ data: 'emoji \u{1F600} and \u{10FFFF}' })] }, expect: ok({ successful: true }), delivered: [{ data: 'emoji \u{1F600} and \u{10FFFF}' }] },
];

// ------------------------------------------------------------------- NUL

// a NUL inside a name would cut it short (C strings): refused
const nulCatalogue = [
    { name: 'NUL: a raw NUL byte between tokens', group: 'nul', request: { bytes: ['[{"channel":"/meta/handshake"}', [0], ']'] }, expect: bad(MALFORMED) },
    { name: 'NUL: a raw NUL byte inside a string', group: 'nul', request: { bytes: ['[{"channel":"/meta/hand', [0], 'shake"}]'] }, expect: bad(MALFORMED) },
    { name: 'NUL: \\u0000 in a publish channel', group: 'nul', needs: ['A'],
        request: { body: '[{"channel":"/nul\\u0000b","clientId":"$CID","data":1,"id":"t"}]' },
        expect: ok({ id: 't', successful: false, error: /^405:.*:channel_invalid$/ }) },
    { name: 'NUL: \\u0000 in a subscription', group: 'nul', needs: ['A'],
        request: { body: '[{"channel":"/meta/subscribe","clientId":"$CID","subscription":"/nul\\u0000b","id":"t"}]' },
        expect: ok({ id: 't', successful: false, error: /^405:.*:channel_invalid$/ }) },
    { name: 'NUL: \\u0000 after a valid clientId', group: 'nul', needs: ['A', 'W'],
        request: { body: '[{"channel":"$CH","clientId":"$CID\\u0000zz","data":1,"id":"t"}]' },
        expect: ok(unknownId('$CH', { id: 't' })), delivered: [] },
    { name: 'NUL: \\u0000 in data is delivered intact', group: 'nul', needs: ['A', 'W'],
        request: { body: '[{"channel":"$CH","clientId":"$CID","data":"x\\u0000y"}]' }, expect: ok({ successful: true }), delivered: [{ data: 'x\u0000y' }] },
    { name: 'NUL: \\u0000 in an id is echoed escaped', group: 'nul', needs: ['A'],
        request: { body: '[{"channel":"/meta/connect","clientId":"$CID","connectionType":"long-polling","id":"a\\u0000b"}]' },
        expect: ok({ id: 'a\u0000b', successful: true }) },
    { name: 'NUL: %00 in a form body', group: 'nul', request: { headers: form, form: 'message=%5B%7B%22channel%22%3A%22%2Fmeta%2Fhand%00shake%22%7D%5D' }, expect: bad(MALFORMED) },
    // lighttpd itself refuses %00 in a query string (its own HTML 400)
    { name: 'NUL: %00 in a JSONP callback', group: 'nul', request: { jsonp: { message: [hs()], callback: 'cb\u0000x' } }, expect: { status: 400 } },
];

// ----------------------------------------------------------- bodies, batches

const B = LIMITS.maxBody;
const bodyCatalogue = [
    { name: 'empty body (Content-Length: 0)', group: 'body', request: { body: '' }, expect: bad(/empty request body/) },
    { name: 'empty body without a content type', group: 'body', request: { body: '', headers: { 'Content-Type': null } }, expect: bad(/empty request body/) },
    { name: 'empty form body', group: 'body', request: { headers: form, form: '' }, expect: bad(/missing message parameter/) },
    { name: 'oversized body (Content-Length)', group: 'body', request: { body: [hs({ ext: 'x'.repeat(B + 10) })] }, expect: bad(/request body too large/, 413) },
    { name: 'oversized body (chunked)', group: 'body', request: { body: [hs({ ext: 'x'.repeat(B + 10) })], chunked: true }, expect: bad(/request body too large/, 413) },
    { name: 'oversized body of garbage gets 413, not 400', group: 'body', request: { body: '}'.repeat(B + 1) }, expect: bad(/request body too large/, 413) },
    { name: 'a 10,000-message batch', group: 'body',
        request: { body: '[' + Array(10000).fill('{"channel":"/a"}').join(',') + ']' },
        expect: bad(new RegExp(`too many messages in one request \\(at most ${LIMITS.maxBatch}\\)`), 413) },
    { name: `a batch of ${LIMITS.maxBatch + 1} messages (one over --max-batch)`, group: 'body', needs: ['A'],
        request: { body: Array.from({ length: LIMITS.maxBatch + 1 }, (_, i) => unsub({ id: `u${i}` })) },
        expect: bad(new RegExp(`too many messages in one request \\(at most ${LIMITS.maxBatch}\\)`), 413) },
    { name: `a batch of ${LIMITS.maxBatch} messages (at --max-batch) is answered`, group: 'body', needs: ['A'],
        request: { body: Array.from({ length: LIMITS.maxBatch }, (_, i) => unsub({ id: `u${i}` })) },
        expect: ok(...Array.from({ length: LIMITS.maxBatch }, (_, i) => ({ id: `u${i}`, successful: true }))) },
];

// ---------------------------------------------------------------- channels

const chanCase = (what, channel, error, why) => ({
    name: `channels: publish to ${what}`, group: 'channels', needs: ['A', 'W'], why,
    request: { body: [pub({ channel })] },
    expect: ok(error ? fail(channel, error, { id: 't' }) : { channel, id: 't', successful: true }), delivered: [],
});
const long256 = '/' + 'a'.repeat(255);
const channelCatalogue = [
    chanCase('/meta/foo', '/meta/foo', '403:/meta/foo:publish_denied'),
    chanCase('/meta/** (a wildcard)', '/meta/**', '405:/meta/**:channel_invalid'),
    chanCase('/meta', '/meta', '403:/meta:publish_denied'),
    chanCase('"" (empty)', '', '405::channel_invalid'),
    chanCase('"/"', '/', '405:/:channel_invalid'),
    chanCase('"//a"', '//a', '405://a:channel_invalid'),
    chanCase('"/a/"', '/a/', '405:/a/:channel_invalid'),
    chanCase('"a" (no leading slash)', 'a', '405:a:channel_invalid'),
    chanCase('"/a/*" (a wildcard)', '/a/*', '405:/a/*:channel_invalid'),
    chanCase('"/a/**" (a wildcard)', '/a/**', '405:/a/**:channel_invalid'),
    chanCase('"/a/*/b" (a wildcard inside)', '/a/*/b', '405:/a/*/b:channel_invalid'),
    chanCase('"/a b" (a space)', '/a b', '405:/a b:channel_invalid'),
    chanCase('"/caf\u00e9" (non-ASCII)', '/caf\u00e9', '405:/caf\u00e9:channel_invalid'),
    chanCase('a name of 256 bytes (the longest)', long256, null),
    { ...chanCase('a name of 257 bytes', long256 + 'a', null), expect: ok(fail(long256 + 'a', /^405:\/a{1,127}:channel_invalid$/, { id: 't' })) },
    chanCase('32 segments (the deepest)', '/s'.repeat(32), null),
    chanCase('33 segments', '/s'.repeat(33), `405:${'/s'.repeat(33)}:channel_invalid`),
    { ...chanCase('a name of 1,000 bytes', '/' + 'b'.repeat(999), null), expect: ok(fail('/' + 'b'.repeat(999), /^405:\/b{1,127}:channel_invalid$/, { id: 't' })) },
    { name: 'channels: publish to /service with no handler', group: 'channels', needs: ['A'], request: { body: [pub({ channel: '/service' })] },
        expect: ok({ channel: '/service', id: 't', successful: true }) },
    ...[['/meta/**', '403:/meta/**:subscribe_denied'], ['/meta/connect', '403:/meta/connect:subscribe_denied'], ['', '405::channel_invalid'],
        ['/a/**/b', '405:/a/**/b:channel_invalid'], ['/' + 'c'.repeat(300), /^405:\/c{1,127}:channel_invalid$/]].map(([s, error]) => ({
        name: `channels: subscribe to ${JSON.stringify(s).slice(0, 40)}`, group: 'channels', needs: ['A'], request: { body: [sub({ subscription: s })] },
        expect: ok(fail('/meta/subscribe', error, { id: 't' })),
    })),
    { name: 'channels: subscribe to /service/** is accepted but receives nothing', group: 'channels', needs: ['A+', 'B'],
        steps: [
            { request: { body: [sub({ subscription: '/service/**' })] }, expect: ok({ subscription: '/service/**', successful: true }) },
            { request: { cookie: 'B', body: [{ channel: '/service/echo', clientId: '$CID2', data: 'to B only' }] }, expect: ok({ successful: true }) },
            { drain: 'A', delivered: [] },
        ] },
    { name: 'channels: unsubscribe from "//"', group: 'channels', needs: ['A'], request: { body: [unsub({ subscription: '//' })] },
        expect: ok(fail('/meta/unsubscribe', '405://:channel_invalid', { id: 't' })) },
    { name: 'channels: unknown /meta channel', group: 'channels', needs: ['A'], request: { body: [{ channel: '/meta/foo', clientId: '$CID', id: 't' }] },
        expect: ok(fail('/meta/foo', '403:/meta/foo:publish_denied', { id: 't' })) },
];

// --------------------------------------------------------------- clientIds

const idCase = (what, clientId, error = '402::session_unknown') => ({
    name: `clientId: ${what}`, group: 'clientid', needs: ['A', 'W'], request: { body: [pub({ clientId })] },
    expect: ok(fail('$CH', error, { id: 't', advice: HS_ADVICE })), delivered: [],
});
const clientIdCatalogue = [
    idCase('31 hex digits', 'f'.repeat(31)),
    idCase('33 hex digits (a real one and a digit)', '$CID0'),
    idCase('32 non-hex characters', 'g'.repeat(32)),
    idCase('a real one in upper case', '$CIDUPPER'),
    idCase('empty', '', /^402::(session_unknown|client_id_missing)$/),
    idCase('spaces around a real one', ' $CID '),
    { name: 'clientId: a disconnected session connects', group: 'clientid', needs: ['A+'],
        steps: [
            { request: { body: [disc()] }, expect: ok({ channel: '/meta/disconnect', successful: true }) },
            { request: { body: [conn()] }, expect: ok(unknownId('/meta/connect', { id: 't' })) },
        ] },
    // The clientId is the session's credential (128 random bits, never sent
    // to anyone else); the BAYEUX_BROWSER cookie only counts a browser's tabs
    // and is not checked against it: binding them would refuse every client
    // that keeps no cookies, and would not stop a request without one.
    { name: 'clientId: a session\'s id in a JSONP GET from another browser cookie is that session', group: 'clientid', needs: ['A+', 'B'],
        steps: [
            { request: { body: [{ channel: '/service/echo', clientId: '$CID', data: 'for A' }] }, expect: ok({ successful: true }) },
            { request: { cookie: 'B', jsonp: { message: [conn({ connectionType: 'callback-polling', advice: { timeout: 0 } })], callback: 'cb' } },
                expect: { status: 200, jsonp: 'cb', check: (res) => assert.match(res.text, /"data":"for A"/, 'the queued message goes to the holder of the clientId') } },
        ] },
];

// ------------------------------------------------------------------- JSONP

const cbCase = (what, callback) => ({ name: `JSONP: callback ${what}`, group: 'jsonp', request: { jsonp: { message: [hs()], callback } }, expect: bad(BAD_CALLBACK) });
const jsonpCatalogue = [
    cbCase('"alert(1)//"', 'alert(1)//'),
    cbCase('"</script>"', '</script>'),
    cbCase('"<script>alert(1)</script>"', '<script>alert(1)</script>'),
    cbCase('"caf\u00e9" (non-ASCII)', 'caf\u00e9'),
    cbCase('with U+2028', 'cb\u2028x'),
    cbCase('"a b"', 'a b'),
    cbCase('"cb;alert(1)"', 'cb;alert(1)'),
    cbCase('of 65 characters', 'c'.repeat(65)),
    cbCase('empty', ''),
    { name: 'JSONP: a safe callback is answered wrapped', group: 'jsonp', request: { jsonp: { message: [hs({ supportedConnectionTypes: ['callback-polling'] })], callback: 'jQuery_1.2-3' } },
        expect: { status: 200, jsonp: 'jQuery_1.2-3', replies: [handshakeOk({ id: 't' })] } },
    { name: 'JSONP: a POST with ?jsonp=alert(1)', group: 'jsonp', request: { query: 'jsonp=alert(1)', body: [hs()] }, expect: bad(BAD_CALLBACK) },
    { name: 'JSONP: a form body with jsonp=</script>', group: 'jsonp', request: { headers: form, form: `message=${encodeURIComponent(JSON.stringify([hs()]))}&jsonp=%3C%2Fscript%3E` }, expect: bad(BAD_CALLBACK) },
    { name: 'JSONP: a GET without a callback', group: 'jsonp', request: { method: 'GET', query: `message=${encodeURIComponent(JSON.stringify([hs()]))}` }, expect: bad(/jsonp callback/) },
    { name: 'JSONP: a GET without a message', group: 'jsonp', request: { method: 'GET', query: 'jsonp=cb' }, expect: bad(/missing message parameter/) },
];

// --------------------------------------------------------- methods, types

/** An unusable BAYEUX_BROWSER cookie is replaced by a fresh one. */
function newBrowserCookie(res) {
    const sc = [].concat(res.headers['set-cookie'] || []).find((c) => c.startsWith('BAYEUX_BROWSER='));
    assert.match(sc || '', /^BAYEUX_BROWSER=[0-9a-f]{32}; Path=\/; HttpOnly/, `a fresh browser cookie: ${JSON.stringify(res.headers['set-cookie'])}`);
}

const methodCatalogue = [
    ...['PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'].map((method) => ({
        name: `method: ${method}`, group: 'http', request: { method, body: method === 'HEAD' || method === 'OPTIONS' ? undefined : [hs()] },
        expect: method === 'HEAD' ? { status: 405, allow: /^GET,\s*POST$/ } : { ...bad(/method not allowed/, 405), allow: /^GET,\s*POST$/ },
    })),
    { name: 'content type: JSON as text/plain is JSON', group: 'http', request: { headers: { 'Content-Type': 'text/plain' }, body: [hs()] }, expect: ok(handshakeOk()) },
    { name: 'content type: JSON as application/xml is JSON', group: 'http', request: { headers: { 'Content-Type': 'application/xml' }, body: [hs()] }, expect: ok(handshakeOk()) },
    { name: 'content type: JSON without a content type', group: 'http', request: { headers: { 'Content-Type': null }, body: [hs()] }, expect: ok(handshakeOk()) },
    { name: 'content type: JSON under the form content type is JSON', group: 'http', request: { headers: form, body: [hs()] }, expect: ok(handshakeOk()) },
    { name: 'content type: a multipart/form-data body', group: 'http',
        request: { headers: { 'Content-Type': 'multipart/form-data; boundary=XX' }, body: `--XX\r\nContent-Disposition: form-data; name="message"\r\n\r\n${JSON.stringify([hs()])}\r\n--XX--\r\n` },
        expect: bad(MALFORMED) },
    ...[['a BAYEUX_BROWSER of 5,000 bytes', `BAYEUX_BROWSER=${'f'.repeat(5000)}`, true],
        ['BAYEUX_BROWSER without a value', 'BAYEUX_BROWSER=', true],
        ['BAYEUX_BROWSER without "="', 'BAYEUX_BROWSER', true],
        ['only separators', ';;; ;\t;', true],
        ['BAYEUX_BROWSER carrying markup', 'BAYEUX_BROWSER=<script>x</script>; other=1', false]].map(([what, cookie, fresh]) => ({
        name: `cookie: ${what}`, group: 'http', request: { cookie: 'none', headers: { Cookie: cookie }, body: [hs()] },
        expect: { ...ok(handshakeOk()), check: fresh ? newBrowserCookie : undefined },
    })),
    ...[['another site', 'http://evil.example'], ['"null" (a sandboxed page)', 'null'], ['of 5,000 bytes', `http://${'o'.repeat(5000)}.example`],
        ['with a path', '$ORIGIN/cometd'], ['the https twin of this http site', '$HTTPSORIGIN']].map(([what, origin]) => ({
        name: `cross-origin: a POST from an Origin ${what}`, group: 'http', request: { headers: { Origin: origin }, body: [hs()] },
        expect: bad(/cross-origin request refused/, 403),
    })),
    { name: 'cross-origin: a preflight from another site', group: 'http',
        request: { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } }, expect: bad(/cross-origin request refused/, 403) },
    { name: 'cross-origin: a JSONP GET carrying another site\'s Origin', group: 'http',
        request: { headers: { Origin: 'http://evil.example' }, jsonp: { message: [hs()], callback: 'cb' } }, expect: bad(/cross-origin request refused/, 403) },
    { name: 'cross-origin: a POST from this very origin passes', group: 'http', request: { headers: { Origin: '$ORIGIN' }, body: [hs()] }, expect: ok(handshakeOk()) },
    { name: 'form: a body without message=', group: 'http', request: { headers: form, form: 'foo=bar' }, expect: bad(/missing message parameter/) },
    { name: 'form: only jsonp=', group: 'http', request: { headers: form, form: 'jsonp=cb' }, expect: bad(/missing message parameter/) },
    { name: 'form: "message" without "="', group: 'http', request: { headers: form, form: 'message' }, expect: bad(TRUNCATED) },
    { name: 'form: "message=" empty', group: 'http', request: { headers: form, form: 'message=' }, expect: bad(TRUNCATED) },
    { name: 'form: "Message=" (wrong case)', group: 'http', request: { headers: form, form: `Message=${encodeURIComponent(JSON.stringify([hs()]))}` }, expect: bad(/missing message parameter/) },
    { name: 'form: only separators', group: 'http', request: { headers: form, form: '&&=&=' }, expect: bad(/missing message parameter/) },
    { name: 'form: a broken %-escape', group: 'http', request: { headers: form, form: 'message=%5B%7B%2' }, expect: bad(MALFORMED) },
];

// ------------------------------------------------ replays, concurrency, order

const replayCatalogue = [
    { name: 'replayed handshake: the same message twice makes two sessions', group: 'replay',
        steps: [
            { request: { body: [hs({ id: 'same' })] }, expect: ok(handshakeOk({ id: 'same' })), save: (res, ctx) => { ctx.vars.FIRST = res.replies[0].clientId; } },
            { request: { body: [hs({ id: 'same' })] }, expect: ok(handshakeOk({ id: 'same', clientId: (v, ctx) => CID_RE.test(v) && v !== ctx.vars.FIRST })) },
        ] },
    { name: 'two handshakes in one batch: only the first is answered', group: 'replay',
        request: { body: [hs({ id: 'h1' }), hs({ id: 'h2' })] }, expect: ok(handshakeOk({ id: 'h1' })) },
    { name: 'replayed connect: the same connect twice delivers nothing twice', group: 'replay', needs: ['A+'], subscribe: { A: ['$CH'] },
        steps: [
            { request: { body: [pub({ data: 'once' })] }, expect: ok({ successful: true }) },
            { request: { body: [conn({ id: 'r', advice: { timeout: 0 } })] }, expect: ok({ channel: '$CH', data: 'once' }, { channel: '/meta/connect', id: 'r', successful: true }) },
            { request: { body: [conn({ id: 'r', advice: { timeout: 0 } })] }, expect: ok({ channel: '/meta/connect', id: 'r', successful: true }) },
        ] },
    { name: 'replayed subscribe: subscribed twice, delivered once', group: 'replay', needs: ['A+', 'B'],
        steps: [
            { request: { body: [sub()] }, expect: ok({ successful: true }) },
            { request: { body: [sub()] }, expect: ok({ successful: true }) },
            { request: { body: [sub({ subscription: ['$CH', '$CH'] })] }, expect: ok({ successful: true }) },
            { request: { cookie: 'B', body: [pub({ clientId: '$CID2', data: 'one' })] }, expect: ok({ successful: true }) },
            { drain: 'A', delivered: [{ data: 'one' }] },
        ] },
    { name: 'two concurrent connects of one session: the first is answered, the second held', group: 'replay', needs: ['A+'], subscribe: { A: ['$CH'] },
        steps: [
            { request: { body: [conn({ id: 'c1' })] }, hold: true, as: 'c1' },
            { pending: 'c1' },
            { request: { body: [conn({ id: 'c2' })] }, hold: true, as: 'c2' },
            { wait: 'c1', expect: ok({ channel: '/meta/connect', id: 'c1', successful: true }), beforeTimeout: true },
            { pending: 'c2' },
            { request: { body: [pub({ data: 'to c2' })] }, expect: ok({ successful: true }) },
            { wait: 'c2', expect: ok({ channel: '$CH', data: 'to c2' }, { channel: '/meta/connect', id: 'c2', successful: true }) },
        ] },
    { name: 'a second connect in one batch is refused', group: 'replay', needs: ['A'],
        request: { body: [conn({ id: 'c1' }), conn({ id: 'c2' })] },
        expect: ok({ channel: '/meta/connect', id: 'c1', successful: true }, fail('/meta/connect', '400::connect_repeated', { id: 'c2' })) },
    { name: 'connects of two sessions in one batch: the second is refused', group: 'replay', needs: ['A', 'B'],
        request: { body: [conn({ id: 'c1' }), conn({ id: 'c2', clientId: '$CID2' })] },
        expect: ok({ channel: '/meta/connect', id: 'c1', successful: true }, fail('/meta/connect', '400::connect_repeated', { id: 'c2' })) },
];

const discCase = (what, msg, reply) => ({
    name: `after disconnect: ${what}`, group: 'disconnect', needs: ['A+', 'W'],
    steps: [
        { request: { body: [disc()] }, expect: ok({ channel: '/meta/disconnect', successful: true }) },
        { request: { body: [msg] }, expect: ok(reply), delivered: [] },
    ],
});
const disconnectCatalogue = [
    discCase('publish', pub(), unknownId('$CH', { id: 't' })),
    discCase('connect', conn(), unknownId('/meta/connect', { id: 't' })),
    discCase('subscribe', sub(), unknownId('/meta/subscribe', { id: 't' })),
    discCase('disconnect again', disc(), unknownId('/meta/disconnect', { id: 't' })),
    { name: 'after disconnect: publish in the same batch', group: 'disconnect', needs: ['A+', 'W'],
        request: { body: [disc({ id: 'd' }), pub({ id: 'p' })] },
        expect: ok({ channel: '/meta/disconnect', id: 'd', successful: true }, unknownId('$CH', { id: 'p' })), delivered: [] },
    { name: 'disconnect while a connect is held: it is answered with reconnect none', group: 'disconnect', needs: ['A+'],
        steps: [
            { request: { body: [conn({ id: 'held' })] }, hold: true, as: 'c' },
            { pending: 'c' },
            { request: { body: [disc()] }, expect: ok({ channel: '/meta/disconnect', successful: true }) },
            { wait: 'c', expect: ok({ channel: '/meta/connect', id: 'held', successful: true, advice: { reconnect: 'none' } }) },
        ] },
];

// ------------------------------------------------------- slow clients, resets

const wireCatalogue = [
    { name: 'slow drip: a handshake sent one byte every 10 ms (Content-Length)', group: 'wire', scenario: 'drip',
        request: { body: [hs({ id: 'drip' })] }, dripMs: 10, expect: ok(handshakeOk({ id: 'drip' })) },
    { name: 'slow drip: a publish sent one byte every 10 ms (chunked)', group: 'wire', scenario: 'drip', needs: ['A', 'W'],
        request: { body: [pub({ data: 'dripped' })], chunked: true }, dripMs: 10, expect: ok({ successful: true }), delivered: [{ data: 'dripped' }] },
    { name: 'reset mid-request: half a body, then RST', group: 'wire', scenario: 'reset', needs: ['A', 'W'],
        request: { body: [pub({ data: 'never' })] }, partialBytes: 0.5, expect: 'no answer; nothing delivered; the next request works', delivered: [] },
    { name: 'reset after a whole request, before the answer', group: 'wire', scenario: 'reset', needs: ['A'],
        request: { body: Array.from({ length: 10 }, (_, i) => unsub({ id: `u${i}` })) }, expect: 'no answer; the session still works' },
    { name: 'reset mid-held-connect: the responder drops the held poll', group: 'wire', scenario: 'resetHeld', needs: ['A+'],
        expect: 'the browser\'s poll slot is free again: another session of the browser is held, not told multiple-clients' },
];

// ------------------------------------------------------------- chat service

const svc = (channel, data, from = '$CID') => ({ channel, clientId: from, data, id: 't' });
const chatCase = (name, channel, data, error, extra = {}) => ({
    name: `chat: ${name}`, group: 'chat', needs: ['chat'], request: { body: [svc(channel, data)] },
    expect: ok(error ? fail(channel, error, { id: 't' }) : { channel, id: 't', successful: true }), ...extra,
});
const noPrivate = (msgs) => !msgs.some((m) => m.data && m.data.scope === 'private');
const chatCatalogue = [
    ...[['a number', 42], ['a string', 'demo'], ['an array', ['demo']], ['null', null]].map(([what, d]) =>
        chatCase(`/service/members with data ${what}`, '/service/members', d, '400::room_invalid')),
    chatCase('/service/members without room', '/service/members', { user: 'x' }, '400::room_invalid'),
    chatCase('/service/members with room a number', '/service/members', { room: 7, user: 'x' }, '400::room_invalid'),
    chatCase('/service/members without user', '/service/members', { room: '$ROOM' }, '400::user_invalid'),
    chatCase('/service/members with user a number', '/service/members', { room: '$ROOM', user: 7 }, '400::user_invalid'),
    chatCase('/service/members with user of 33 characters', '/service/members', { room: '$ROOM', user: 'u'.repeat(33) }, `400:${'u'.repeat(33)}:user_invalid`),
    chatCase('/service/members with user of 5,000 characters', '/service/members', { room: '$ROOM', user: 'u'.repeat(5000) }, /^400:u{1,128}:user_invalid$/),
    chatCase('/service/members with room of 65 characters', '/service/members', { room: 'r'.repeat(65), user: 'x' }, `400:${'r'.repeat(65)}:room_invalid`),
    chatCase('/service/members with room of 5,000 characters', '/service/members', { room: 'r'.repeat(5000), user: 'x' }, /^400:r{1,128}:room_invalid$/),
    chatCase('/service/members with room "a/b"', '/service/members', { room: 'a/b', user: 'x' }, '400:a/b:room_invalid'),
    chatCase('/service/members with room "*"', '/service/members', { room: '*', user: 'x' }, '400:*:room_invalid'),
    chatCase('/service/members with a blank user', '/service/members', { room: '$ROOM', user: '   ' }, '400:   :user_invalid'),
    chatCase('/service/members with a newline in user', '/service/members', { room: '$ROOM', user: 'a\nb' }, '400:a\nb:user_invalid'),
    { ...chatCase('/service/members with \\u0000 in user', '/service/members', { room: '$ROOM', user: 'u9\u0000evil' }, /^400:.*:user_invalid$/) },
    { ...chatCase('/service/members with \\u0000 in room', '/service/members', { room: '$ROOM\u0000x', user: 'u9' }, /^400:.*:room_invalid$/) },
    chatCase('/service/members taking a name in use', '/service/members', { room: '$ROOM', user: 'u2' }, '409:u2:name_taken'),
    chatCase('/service/members with leave "yes" (not a boolean)', '/service/members', { room: '$ROOM', leave: 'yes' }, '400::user_invalid'),
    chatCase('/service/privatechat with data a number', '/service/privatechat', 42, '400::room_invalid'),
    chatCase('/service/privatechat without room', '/service/privatechat', { chat: 'hi', peer: 'u2' }, '400::room_invalid'),
    chatCase('/service/privatechat without chat', '/service/privatechat', { room: '$ROOM', peer: 'u2' }, '400::chat_invalid'),
    chatCase('/service/privatechat with chat a number', '/service/privatechat', { room: '$ROOM', chat: 5, peer: 'u2' }, '400::chat_invalid'),
    chatCase('/service/privatechat with chat of 2,001 bytes', '/service/privatechat', { room: '$ROOM', chat: 'c'.repeat(2001), peer: 'u2' }, '400::chat_invalid'),
    { ...chatCase('/service/privatechat with \\u0000 in chat', '/service/privatechat', { room: '$ROOM', chat: 'hi\u0000there', peer: 'u2' }, '400::chat_invalid') },
    chatCase('/service/privatechat without peer', '/service/privatechat', { room: '$ROOM', chat: 'hi' }, '404::peer_unknown'),
    chatCase('/service/privatechat with peer a number', '/service/privatechat', { room: '$ROOM', chat: 'hi', peer: 5 }, '404::peer_unknown'),
    chatCase('/service/privatechat with peer an object', '/service/privatechat', { room: '$ROOM', chat: 'hi', peer: { u2: true } }, '404::peer_unknown'),
    chatCase('/service/privatechat with peer [42]', '/service/privatechat', { room: '$ROOM', chat: 'hi', peer: [42] }, '404:42:peer_unknown'),
    chatCase('/service/privatechat with 17 peers', '/service/privatechat', { room: '$ROOM', chat: 'hi', peer: Array(17).fill('u2') }, '400:peer:chat_invalid'),
    chatCase('/service/privatechat with a peer name of 5,000 characters', '/service/privatechat', { room: '$ROOM', chat: 'hi', peer: 'p'.repeat(5000) }, /^404:p{1,128}:peer_unknown$/),
    chatCase('/service/privatechat to an unknown peer', '/service/privatechat', { room: '$ROOM', chat: 'hi', peer: 'nobody' }, '404:nobody:peer_unknown', { delivered: { B: noPrivate } }),
    chatCase('/service/privatechat to someone not in the room', '/service/privatechat', { room: '$ROOM', chat: 'psst', peer: 'u3' }, '404:u3:peer_unknown', { delivered: { C: noPrivate } }),
    chatCase('/service/privatechat to a known and an unknown peer', '/service/privatechat', { room: '$ROOM', chat: 'psst', peer: ['u2', 'nobody'] }, '404:nobody:peer_unknown', { delivered: { B: noPrivate } }),
    chatCase('/service/privatechat from outside the room', '/service/privatechat', { room: '$ROOM2', chat: 'psst', peer: 'u3' }, '403:/chat/$ROOM2:not_joined', { delivered: { C: noPrivate } }),
    chatCase('/service/privatechat in a room that does not exist', '/service/privatechat', { room: 'nosuchroom', chat: 'psst', peer: 'u2' }, '403:/chat/nosuchroom:not_joined'),
    chatCase('/service/rooms with junk data', '/service/rooms', { junk: [1, 2, 3] }, null),
    { name: 'chat: publish to a room one has not joined', group: 'chat', needs: ['chat'], request: { cookie: 'C', body: [svc('/chat/$ROOM', { chat: 'intrude' }, '$CID3')] },
        expect: ok(fail('/chat/$ROOM', '403:/chat/$ROOM:not_joined', { id: 't' })), delivered: { B: (msgs) => !msgs.some((m) => m.data && m.data.chat === 'intrude') } },
    chatCase('publish to a room with data a string', '/chat/$ROOM', 'hello', '400::chat_invalid'),
    chatCase('publish to a room without chat', '/chat/$ROOM', { text: 'hello' }, '400::chat_invalid'),
    { ...chatCase('publish to a room with \\u0000 in chat', '/chat/$ROOM', { chat: 'hi\u0000there' }, '400::chat_invalid') },
    chatCase('publish to a room as someone else', '/chat/$ROOM', { user: 'u2', chat: 'I am u2' }, null,
        { delivered: { B: (msgs) => msgs.some((m) => m.data && m.data.chat === 'I am u2' && m.data.user === 'u1') } }),
    chatCase('publish to /members/<room>', '/members/$ROOM', ['u1', 'fake'], '403:/members/$ROOM:publish_denied'),
    chatCase('publish to /rooms', '/rooms', [{ room: 'fake', members: 99 }], '403:/rooms:publish_denied'),
];

// ------------------------------------------------------------------ limits

const S = LIMITS.maxSubscriptions;
const manyChannels = (n, p = '$CH') => Array.from({ length: n }, (_, i) => `${p}/s${i}`);
const limitCatalogue = [
    { name: `max-subscriptions: ${S} are accepted, one more is refused`, group: 'limits', needs: ['A'],
        steps: [
            { request: { body: [sub({ subscription: manyChannels(S) })] }, expect: ok({ successful: true }) },
            { request: { body: [sub({ subscription: '$CH/more' })] }, expect: ok(fail('/meta/subscribe', `403:${S}:too_many_subscriptions`, { id: 't' })) },
        ] },
    { name: `max-subscriptions: ${S + 1} in one request, none is subscribed`, group: 'limits', needs: ['A+', 'B'],
        steps: [
            { request: { body: [sub({ subscription: manyChannels(S + 1) })] }, expect: ok(fail('/meta/subscribe', `403:${S}:too_many_subscriptions`, { id: 't' })) },
            { request: { cookie: 'B', body: [pub({ clientId: '$CID2', channel: '$CH/s0', data: 'nobody' })] }, expect: ok({ successful: true }) },
            { drain: 'A', delivered: [] },
        ] },
    { name: 'max-subscriptions: 1,000 channels in one request', group: 'limits', needs: ['A'],
        request: { body: [sub({ subscription: manyChannels(1000) })] }, expect: ok(fail('/meta/subscribe', `403:${S}:too_many_subscriptions`, { id: 't' })) },
    { name: `publish rate: a burst of ${LIMITS.maxBatch} publishes, ${LIMITS.publishBurst} pass`, group: 'limits', needs: ['A', 'W'],
        request: { body: Array.from({ length: LIMITS.maxBatch }, (_, i) => pub({ id: `p${i}`, data: i })) },
        expect: {
            status: 200,
            replies: Array.from({ length: LIMITS.maxBatch }, (_, i) => (i < LIMITS.publishBurst ? { id: `p${i}`, successful: true }
                : i < LIMITS.publishBurst + 2 ? { id: `p${i}`, successful: PRESENT }   // a token may refill meanwhile
                    : fail('$CH', /^429:\d+:publish_rate_exceeded$/, { id: `p${i}` }))),
        },
        delivered: { raw: (t) => rawNumbers(t, 'data').length >= LIMITS.publishBurst && rawNumbers(t, 'data').length <= LIMITS.publishBurst + 2 } },
    { name: 'publish rate: after the advised wait the session publishes again', group: 'limits', needs: ['A', 'W'],
        steps: [
            { request: { body: Array.from({ length: LIMITS.publishBurst + 5 }, (_, i) => pub({ id: `p${i}`, data: i })) },
                expect: { status: 200, includes: [fail('$CH', /^429:\d+:publish_rate_exceeded$/)] },
                save: (res, ctx) => { ctx.vars.RETRY = Math.max(...res.replies.filter((r) => !r.successful).map((r) => Number(r.error.split(':')[1]))); } },
            { sleepVar: 'RETRY' },
            { request: { body: [pub({ id: 'again', data: 'again' })] }, expect: ok({ id: 'again', successful: true }) },
        ] },
];

export const cases = [
    ...jsonCatalogue, ...utf8Catalogue, ...nulCatalogue, ...numberCatalogue, ...stringCatalogue, ...bodyCatalogue,
    ...typeCatalogue, ...heldCatalogue, ...channelCatalogue, ...clientIdCatalogue, ...jsonpCatalogue, ...methodCatalogue,
    ...replayCatalogue, ...disconnectCatalogue, ...chatCatalogue, ...limitCatalogue, ...wireCatalogue,
];

// ------------------------------------------- global limits: the tight instance

export const tightCases = [
    { name: `max-sessions: handshakes past ${TIGHT.maxSessions} sessions are refused until one ends`, group: 'tight', scenario: 'maxSessions',
        expect: ok(fail('/meta/handshake', '503::too_many_sessions', { advice: { reconnect: 'handshake', interval: 5000 } })) },
    { name: `max-polls: a held connect past ${TIGHT.maxPolls} is refused, its session keeps its queue`, group: 'tight', scenario: 'maxPolls',
        expect: ok(fail('/meta/connect', '503::too_many_polls', { advice: { reconnect: 'retry', interval: 1000 } })) },
    { name: 'max-polls: a held connect whose client reset frees its slot', group: 'tight', scenario: 'resetFreesSlot',
        expect: 'after the reset, a new connect is held instead of refused with 503::too_many_polls' },
];
