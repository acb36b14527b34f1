#!/usr/bin/env python3
"""Sends malformed and edge-case HTTP/1 messages through a real Envoy and
records what it does, then derives Remora's expected parser outcomes.

  Tests/Fuzz/EnvoyProbe/envoy_probe.py run  [--envoy PATH] [--out results.json]   # probe a real Envoy (loopback only)
  envoy_probe.py emit [--results results.json]               # write corpus, Swift table, markdown

`run` starts a raw Python upstream on 127.0.0.1:18081 that logs what reaches
it and answers each request head with the case's canned response, and an
Envoy (HCM + router) on 127.0.0.1:18080 (defaults) and 127.0.0.1:18083
(accept_http_10 and websocket upgrades). For every case it records the
status codes sent back, whether Envoy closed the connection (delayed close
is 1 s), whether anything reached the upstream, and %RESPONSE_CODE_DETAILS%.

`emit` writes:
  Tests/Fuzz/corpus/http1/<case>.http        raw bytes (also the fuzz seeds)
  Tests/RemoraHTTPTests/EnvoyCases.swift     the expected parser outcome of each case
  Tests/RemoraHTTPTests/ENVOY_BEHAVIOUR.md   the table
"""
import argparse, json, os, re, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TESTS = os.path.join(REPO, 'Tests', 'RemoraHTTPTests')
CORPUS = os.path.join(REPO, 'Tests', 'Fuzz', 'corpus', 'http1')

H = b'Host: x\r\n'
TE = b'Transfer-Encoding: chunked\r\n'
G = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'


def post(*fields, body=b''):
    return b'POST / HTTP/1.1\r\n' + H + b''.join(fields) + b'\r\n' + body


def get(*fields, target=b'/', version=b'HTTP/1.1', method=b'GET'):
    return method + b' ' + target + b' ' + version + b'\r\n' + H + b''.join(fields) + b'\r\n'


def chunked(body):
    return post(TE, body=body)


# (id, listener, bytes, note). listener: "req" = defaults, "req10" = accept_http_10 + websocket.
REQUESTS = [
    ('baseline', 'req', G, ''),
    ('cl+te', 'req', post(b'Content-Length: 5\r\n', TE, body=b'5\r\nhello\r\n0\r\n\r\n'), 'smuggling: CL.TE'),
    ('te+cl', 'req', post(TE, b'Content-Length: 5\r\n', body=b'5\r\nhello\r\n0\r\n\r\n'), 'smuggling: TE.CL'),
    ('te-gzip+cl', 'req', post(b'Transfer-Encoding: gzip\r\nContent-Length: 5\r\n', body=b'hello'), ''),
    ('te-chunked+cl0', 'req', post(TE, b'Content-Length: 0\r\n', body=b'0\r\n\r\n'), ''),
    ('te-chunked+cl-bad', 'req', post(TE, b'Content-Length: x\r\n', body=b'0\r\n\r\n'), ''),
    ('te-chunked+cl-dup', 'req', post(TE, b'Content-Length: 5\r\nContent-Length: 5\r\n', body=b'0\r\n\r\n'), ''),
    ('cl-dup-differ', 'req', post(b'Content-Length: 5\r\nContent-Length: 6\r\n', body=b'hello!'), 'smuggling: CL.CL'),
    ('cl-dup-same', 'req', post(b'Content-Length: 5\r\nContent-Length: 5\r\n', body=b'hello'), 'even identical duplicates'),
    ('cl-list-same', 'req', post(b'Content-Length: 5, 5\r\n', body=b'hello'), ''),
    ('cl-list-differ', 'req', post(b'Content-Length: 5, 6\r\n', body=b'hello!'), ''),
    ('cl-neg', 'req', post(b'Content-Length: -1\r\n'), ''),
    ('cl-plus', 'req', post(b'Content-Length: +5\r\n', body=b'hello'), ''),
    ('cl-hex', 'req', post(b'Content-Length: 0x5\r\n', body=b'hello'), ''),
    ('cl-overflow', 'req', post(b'Content-Length: 99999999999999999999999\r\n', body=b'hello'), ''),
    ('cl-max', 'req', post(b'Content-Length: 18446744073709551615\r\n', body=b'hello'), '2^64-1 accepted; body never completes'),
    ('cl-max+1', 'req', post(b'Content-Length: 18446744073709551616\r\n', body=b'hello'), ''),
    ('cl-empty', 'req', post(b'Content-Length: \r\n'), ''),
    ('cl-space-inside', 'req', post(b'Content-Length: 1 2\r\n', body=b'hello'), ''),
    ('cl-leading-zero', 'req', post(b'Content-Length: 005\r\n', body=b'hello'), ''),
    ('cl-ws', 'req', post(b'Content-Length:  5 \r\n', body=b'hello'), ''),
    ('cl-0', 'req', post(b'Content-Length: 0\r\n'), ''),
    ('te-gzip', 'req', post(b'Transfer-Encoding: gzip\r\n'), ''),
    ('te-gzip,chunked', 'req', post(b'Transfer-Encoding: gzip, chunked\r\n', body=b'0\r\n\r\n'), 'valid per RFC, refused by Envoy'),
    ('te-chunked,gzip', 'req', post(b'Transfer-Encoding: chunked, gzip\r\n', body=b'0\r\n\r\n'), ''),
    ('te-chunked,chunked', 'req', post(b'Transfer-Encoding: chunked, chunked\r\n', body=b'0\r\n\r\n'), ''),
    ('te-two-lines', 'req', post(TE, TE, body=b'0\r\n\r\n'), ''),
    ('te-Chunked-case', 'req', post(b'Transfer-Encoding: ChUnKeD\r\n', body=b'0\r\n\r\n'), ''),
    ('te-identity', 'req', post(b'Transfer-Encoding: identity\r\n'), ''),
    ('te-chunked-trailing-ws', 'req', post(b'Transfer-Encoding: chunked \r\n', body=b'0\r\n\r\n'), ''),
    ('te-tab-chunked', 'req', post(b'Transfer-Encoding:\tchunked\r\n', body=b'0\r\n\r\n'), ''),
    ('te-empty', 'req', post(b'Transfer-Encoding: \r\n'), ''),
    ('te-xchunked', 'req', post(b'Transfer-Encoding: xchunked\r\n', body=b'0\r\n\r\n'), ''),
    ('te-comma-only', 'req', post(b'Transfer-Encoding: ,chunked\r\n', body=b'0\r\n\r\n'), ''),
    ('te-chunked-comma', 'req', post(b'Transfer-Encoding: chunked,\r\n', body=b'0\r\n\r\n'), ''),
    ('te-http10', 'req', b'POST / HTTP/1.0\r\n' + H + TE + b'\r\n0\r\n\r\n', ''),
    ('http10+te-gzip', 'req', b'POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n', ''),
    ('te-get', 'req', get(TE) + b'0\r\n\r\n', ''),
    ('nohost+te-gzip', 'req', b'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', ''),
    ('badhost+te-gzip', 'req', b'POST / HTTP/1.1\r\nHost: a b\r\nTransfer-Encoding: gzip\r\n\r\n', ''),
    ('badhost+cl+te', 'req', b'POST / HTTP/1.1\r\nHost: a b\r\n' + TE + b'Content-Length: 5\r\n\r\n', ''),
    ('nohost+cl+te', 'req', b'POST / HTTP/1.1\r\n' + TE + b'Content-Length: 5\r\n\r\n', ''),
    ('badname+te-gzip', 'req', b'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nX A: b\r\n\r\n', ''),
    ('ws-before-colon', 'req', get(b'X-A : b\r\n'), ''),
    ('ws-before-colon-tab', 'req', get(b'X-A\t: b\r\n'), ''),
    ('obs-fold', 'req', get(b'X-A: a\r\n b\r\n'), ''),
    ('obs-fold-tab', 'req', get(b'X-A: a\r\n\tb\r\n'), ''),
    ('first-line-ws', 'req', b'GET / HTTP/1.1\r\n Host: x\r\n\r\n', ''),
    ('bare-cr-value', 'req', get(b'X-A: a\rb\r\n'), ''),
    ('bare-cr-in-name', 'req', get(b'X-\rA: b\r\n'), ''),
    ('cr-before-name', 'req', get(b'\rX-A: b\r\n'), ''),
    ('rl-cr-only', 'req', b'GET / HTTP/1.1\r' + H + b'\r\n', ''),
    ('bare-cr-end-of-head', 'req', b'GET / HTTP/1.1\r\n' + H + b'\r\r\n', 'head never ends'),
    ('nul-value', 'req', get(b'X-A: a\x00b\r\n'), ''),
    ('ctl01-value', 'req', get(b'X-A: a\x01b\r\n'), ''),
    ('del-value', 'req', get(b'X-A: a\x7fb\r\n'), ''),
    ('vt-ff-in-value', 'req', get(b'X-A: a\x0bb\x0c\r\n'), ''),
    ('tab-value', 'req', get(b'X-A: a\tb\r\n'), ''),
    ('obstext-value', 'req', get(b'X-A: a\xc3\xa9b\xff\r\n'), ''),
    ('value-ws-trim', 'req', get(b'X-A:   a b  \t\r\n'), ''),
    ('empty-value', 'req', get(b'X-A:\r\n'), ''),
    ('ctl-name', 'req', get(b'X-\x01A: b\r\n'), ''),
    ('space-in-name', 'req', get(b'X A: b\r\n'), ''),
    ('bad-token-name', 'req', get(b'X(A): b\r\n'), ''),
    ('name-high-byte', 'req', get(b'X-\xc3\xa9: b\r\n'), ''),
    ('underscore-name', 'req', get(b'X_A: b\r\n'), 'headers_with_underscores_action: ALLOW'),
    ('empty-name', 'req', get(b': b\r\n'), ''),
    ('name-colon-only-line', 'req', get(b':\r\n'), ''),
    ('no-colon', 'req', get(b'XA\r\n'), ''),
    ('many-headers+badlater', 'req', get(*[b'X-%d: v\r\n' % i for i in range(100)], b'X\x01: b\r\n'), 'syntax before count'),
    ('chunk-size-bad', 'req', chunked(b'zz\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-overflow', 'req', chunked(b'fffffffffffffffff1\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-16f', 'req', chunked(b'ffffffffffffffff\r\nhello\r\n0\r\n\r\n'), '16 hex digits accepted; body never completes'),
    ('chunk-size-neg', 'req', chunked(b'-5\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-0x', 'req', chunked(b'0x5\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-leading-sp', 'req', chunked(b' 5\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-trailing-sp', 'req', chunked(b'5 \r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-empty', 'req', chunked(b'\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-lf-only', 'req', chunked(b'5\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-size-bare-cr', 'req', chunked(b'5\rhello\r\n0\r\n\r\n'), ''),
    ('chunk-leading-zeros', 'req', chunked(b'0005\r\nhello\r\n0000\r\n\r\n'), ''),
    ('chunk-ext', 'req', chunked(b'5;a=b\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-ext-space', 'req', chunked(b'5 ;a=b\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-ext-quoted', 'req', chunked(b'5;a="b c"\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-ext-ctl', 'req', chunked(b'5;\x01\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-ext-nul', 'req', chunked(b'5;a\x00b\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-ext-lone-cr', 'req', chunked(b'5;a\rb\r\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-ext-lf', 'req', chunked(b'5;a\nhello\r\n0\r\n\r\n'), ''),
    ('chunk-data-no-crlf', 'req', chunked(b'5\r\nhelloXX0\r\n\r\n'), ''),
    ('chunk-data-lf-only', 'req', chunked(b'5\r\nhello\n0\r\n\r\n'), ''),
    ('chunk-data-cr-only', 'req', chunked(b'5\r\nhello\rX0\r\n\r\n'), ''),
    ('last-chunk-lf', 'req', chunked(b'5\r\nhello\r\n0\n\n'), ''),
    ('last-chunk-crlf-lf', 'req', chunked(b'5\r\nhello\r\n0\r\n\n'), ''),
    ('chunk-trailers', 'req', chunked(b'5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n'), ''),
    ('trailer-lf', 'req', chunked(b'5\r\nhello\r\n0\r\nX-T: 1\n\r\n'), ''),
    ('trailer-ws-before-colon', 'req', chunked(b'5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n'), ''),
    ('trailer-obs-fold', 'req', chunked(b'5\r\nhello\r\n0\r\nX-T: 1\r\n 2\r\n\r\n'), ''),
    ('trailer-nul', 'req', chunked(b'5\r\nhello\r\n0\r\nX-T: 1\x002\r\n\r\n'), ''),
    ('trailer-no-colon', 'req', chunked(b'5\r\nhello\r\n0\r\nXT\r\n\r\n'), ''),
    ('bad-method', 'req', b'G(T / HTTP/1.1\r\n' + H + b'\r\n', ''),
    ('lower-method', 'req', b'get / HTTP/1.1\r\n' + H + b'\r\n', ''),
    ('unknown-method', 'req', b'FOO / HTTP/1.1\r\n' + H + b'\r\n', 'allow_custom_methods off'),
    ('method-connect-lower', 'req', b'connect x:443 HTTP/1.1\r\nHost: x\r\n\r\n', ''),
    ('missing-host', 'req', b'GET / HTTP/1.1\r\n\r\n', ''),
    ('missing-host-10', 'req', b'GET / HTTP/1.0\r\n\r\n', ''),
    ('empty-host', 'req', b'GET / HTTP/1.1\r\nHost:\r\n\r\n', ''),
    ('two-hosts', 'req', b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'Envoy joins them: "a,b"'),
    ('host-port', 'req', b'GET / HTTP/1.1\r\nHost: x:80\r\n\r\n', ''),
    ('host-at', 'req', b'GET / HTTP/1.1\r\nHost: u@x\r\n\r\n', ''),
    ('host-space', 'req', b'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', ''),
    ('host-quote', 'req', b'GET / HTTP/1.1\r\nHost: a"b\r\n\r\n', ''),
    ('host-slash', 'req', b'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', ''),
    ('host-non-ascii', 'req', b'GET / HTTP/1.1\r\nHost: a\xc3\xa9\r\n\r\n', ''),
    ('host-tab', 'req', b'GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n', ''),
    ('host-question', 'req', b'GET / HTTP/1.1\r\nHost: a?b\r\n\r\n', ''),
    ('host-hash', 'req', b'GET / HTTP/1.1\r\nHost: a#b\r\n\r\n', ''),
    ('ver-1.2', 'req', get(version=b'HTTP/1.2'), 'treated as 1.0'),
    ('ver-2.0', 'req', get(version=b'HTTP/2.0'), 'treated as 1.0'),
    ('ver-1', 'req', get(version=b'HTTP/1'), ''),
    ('ver-lower', 'req', get(version=b'http/1.1'), ''),
    ('ver-xy', 'req', get(version=b'HTTP/x.y'), ''),
    ('ver-10-digit', 'req', get(version=b'HTTP/10.1'), ''),
    ('ver-junk', 'req', get(version=b'HTTP/1.1x'), ''),
    ('http09', 'req', b'GET /\r\n\r\n', 'no version: HTTP/0.9, treated as 1.0'),
    ('no-version', 'req', b'GET / \r\n' + H + b'\r\n', ''),
    ('bare-lf', 'req', b'GET / HTTP/1.1\n' + b'Host: x\n\n', ''),
    ('lf-in-headers-mixed', 'req', b'GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n', ''),
    ('leading-space-rl', 'req', b' GET / HTTP/1.1\r\n' + H + b'\r\n', ''),
    ('trailing-space-rl', 'req', b'GET / HTTP/1.1 \r\n' + H + b'\r\n', ''),
    ('double-space-rl', 'req', b'GET  / HTTP/1.1\r\n' + H + b'\r\n', ''),
    ('tab-rl', 'req', b'GET\t/ HTTP/1.1\r\n' + H + b'\r\n', ''),
    ('space-in-target', 'req', get(target=b'/a b'), ''),
    ('tab-in-target', 'req', get(target=b'/a\tb'), ''),
    ('ctl-in-target', 'req', get(target=b'/a\x01b'), ''),
    ('del-in-target', 'req', get(target=b'/a\x7f'), ''),
    ('nonascii-in-target', 'req', get(target=b'/a\xc3\xa9'), ''),
    ('target-query', 'req', get(target=b'/?a=b&c'), ''),
    ('target-fragment', 'req', get(target=b'/a#frag'), 'HCM: path_normalization_failed'),
    ('absolute-form', 'req', get(target=b'http://x/p'), ''),
    ('absolute-no-host', 'req', b'GET http://x/p HTTP/1.1\r\n\r\n', ''),
    ('asterisk-get', 'req', get(target=b'*'), ''),
    ('options-asterisk', 'req', get(target=b'*', method=b'OPTIONS'), 'HCM: absolute_path_rejected'),
    ('no-slash-target', 'req', get(target=b'abc'), ''),
    ('get-authority-form', 'req', get(target=b'x:443'), ''),
    ('leading-crlf', 'req', b'\r\n' + G, ''),
    ('leading-2crlf', 'req', b'\r\n\r\n' + G, ''),
    ('conn-close', 'req', get(b'Connection: close\r\n'), ''),
    ('conn-close-upper', 'req', get(b'Connection: Close\r\n'), ''),
    ('conn-close-list', 'req', get(b'Connection: foo, close\r\n'), ''),
    ('conn-close-2lines', 'req', get(b'Connection: keep-alive\r\nConnection: close\r\n'), ''),
    ('http10', 'req', get(version=b'HTTP/1.0'), 'accept_http_10 off'),
    ('http10-keepalive', 'req', get(b'Connection: keep-alive\r\n', version=b'HTTP/1.0'), ''),
    ('pipelined-3', 'req', get(target=b'/1') + get(target=b'/2') + get(target=b'/3'), ''),
    ('pipelined-after-close', 'req', get(b'Connection: close\r\n', target=b'/1') + get(target=b'/2'), 'the rest is ignored'),
    ('pipelined-garbage-after', 'req', get(target=b'/1') + b'GARBAGE\x01\r\n\r\n', ''),
    ('expect-100', 'req', post(b'Expect: 100-continue\r\nContent-Length: 5\r\n', body=b'hello'), 'Envoy answers 100 itself'),
    ('expect-100-upper', 'req', post(b'Expect: 100-Continue\r\nContent-Length: 5\r\n', body=b'hello'), ''),
    ('expect-other', 'req', post(b'Expect: foo\r\nContent-Length: 5\r\n', body=b'hello'), ''),
    ('get-with-body-cl', 'req', get(b'Content-Length: 3\r\n') + b'abc', ''),
    ('upgrade-ws', 'req', get(b'Connection: Upgrade\r\nUpgrade: websocket\r\n'), 'HCM: no upgrade_configs'),
    ('upgrade-no-conn-token', 'req', get(b'Upgrade: websocket\r\n'), ''),
    ('connect', 'req', b'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', 'HCM: no CONNECT route'),
    ('connect-cl5', 'req', b'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\nContent-Length: 5\r\n\r\nhello', ''),
    ('connect-cl0', 'req', b'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\nContent-Length: 0\r\n\r\n', ''),
    ('connect-te', 'req', b'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n' + TE + b'\r\n', ''),
    ('connect-cl5-te', 'req', b'CONNECT x:443 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n' + TE + b'\r\n', ''),
    ('connect-path', 'req', b'CONNECT /p HTTP/1.1\r\nHost: x:443\r\n\r\n', ''),
    ('connect-noport', 'req', b'CONNECT x HTTP/1.1\r\nHost: x\r\n\r\n', ''),
    ('connect-abs', 'req', b'CONNECT http://x:443/ HTTP/1.1\r\nHost: x\r\n\r\n', ''),
    ('connect-nohost', 'req', b'CONNECT x:443 HTTP/1.1\r\n\r\n', ''),
    # Listener with accept_http_10 and websocket upgrades.
    ('10/http10', 'req10', get(version=b'HTTP/1.0'), ''),
    ('10/http10-nohost', 'req10', b'GET / HTTP/1.0\r\n\r\n', ''),
    ('10/http10-keepalive', 'req10', get(b'Connection: keep-alive\r\n', version=b'HTTP/1.0'), ''),
    ('10/http10-keepalive-pipelined', 'req10', get(b'Connection: keep-alive\r\n', target=b'/1', version=b'HTTP/1.0')
        + get(b'Connection: keep-alive\r\n', target=b'/2', version=b'HTTP/1.0'), ''),
    ('10/http10-te', 'req10', b'POST / HTTP/1.0\r\n' + H + TE + b'\r\n0\r\n\r\n', ''),
    ('10/ver-1.2', 'req10', get(version=b'HTTP/1.2'), ''),
    ('10/http09', 'req10', b'GET /\r\n\r\n', ''),
    ('10/upgrade-ws', 'req10', get(b'Connection: Upgrade\r\nUpgrade: websocket\r\n') + b'TUNNELBYTES', 'upstream answers 200'),
    ('10/upgrade-h2c', 'req10', get(b'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n'), 'h2c stripped'),
    ('10/upgrade-ws-cl', 'req10', get(b'Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n') + b'abcTUNNEL', ''),
]

# (id, request method, response bytes, Remora's details if Envoy refuses it, note).
# Envoy reports every upstream codec error as
# upstream_reset_before_response_started{protocol_error}; the codec's own
# details are not visible, so the Remora column names the parser's.
RESPONSES = [
    ('r/baseline', 'GET', b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/cl+te', 'GET', b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
     'http1.content_length_and_chunked_not_allowed', ''),
    ('r/te-gzip', 'GET', b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nokok<CLOSE>', 'http1.invalid_transfer_encoding', ''),
    ('r/te-gzip,chunked', 'GET', b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
     'http1.invalid_transfer_encoding', ''),
    ('r/cl-dup-same', 'GET', b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/cl-dup-differ', 'GET', b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!', 'http1.codec_error', ''),
    ('r/cl-bad', 'GET', b'HTTP/1.1 200 OK\r\nContent-Length: x2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/status-4digit', 'GET', b'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/status-2digit', 'GET', b'HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/status-alpha', 'GET', b'HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/status-099', 'GET', b'HTTP/1.1 099 OK\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/status-600', 'GET', b'HTTP/1.1 600 OK\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/status-999', 'GET', b'HTTP/1.1 999 OK\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/no-reason', 'GET', b'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/empty-reason', 'GET', b'HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/ver-bad', 'GET', b'HTTP/1.x 200 OK\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/ver-2', 'GET', b'HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/ver-lower', 'GET', b'http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/garbage', 'GET', b'garbage\r\n\r\n', 'http1.codec_error', ''),
    ('r/http10-until-close', 'GET', b'HTTP/1.0 200 OK\r\n\r\nhello world<CLOSE>', None, 'Envoy re-frames it chunked'),
    ('r/http11-until-close', 'GET', b'HTTP/1.1 200 OK\r\n\r\nhello world<CLOSE>', None, ''),
    ('r/100-then-200', 'GET', b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/103-then-200', 'GET', b'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/101-unsolicited', 'GET', b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', None,
     'the parser stops: tunnel'),
    ('r/204-cl5', 'GET', b'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', 'http1.content_length_not_allowed', ''),
    ('r/204-cl0', 'GET', b'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', None, 'Content-Length removed'),
    ('r/204-te', 'GET', b'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', 'http1.transfer_encoding_not_allowed', ''),
    ('r/304-cl5', 'GET', b'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', None, 'no body'),
    ('r/head-cl5', 'HEAD', b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', None, 'no body'),
    ('r/obs-fold', 'GET', b'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/nul', 'GET', b'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok', 'http1.invalid_characters', ''),
    ('r/bare-cr', 'GET', b'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok', 'http1.invalid_characters', ''),
    ('r/ws-before-colon', 'GET', b'HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 2\r\n\r\nok', 'http1.codec_error', ''),
    ('r/bad-chunk', 'GET', b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n', 'http1.codec_error',
     'after the head was sent on'),
    ('r/chunk-trailers', 'GET', b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n', None, ''),
    ('r/extra-bytes', 'GET', b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA', None,
     'the parser stops after the response; the extra bytes are not a response'),
    ('r/many-headers', 'GET', b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-%d: v\r\n' % i for i in range(101))
     + b'Content-Length: 2\r\n\r\nok', 'http1.too_many_headers', '102 fields'),
    ('r/100-headers', 'GET', b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-%d: v\r\n' % i for i in range(99))
     + b'Content-Length: 2\r\n\r\nok', None, '100 fields'),
    ('r/big-headers', 'GET', b'HTTP/1.1 200 OK\r\nX-A: ' + b'a' * (61 * 1024) + b'\r\nContent-Length: 2\r\n\r\nok', None,
     'responses may have 80 KiB'),
    ('r/bare-lf', 'GET', b'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', None, ''),
    ('r/conn-close', 'GET', b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', None, ''),
    ('r/underscore', 'GET', b'HTTP/1.1 200 OK\r\nX_A: b\r\nContent-Length: 2\r\n\r\nok', None, ''),
]

# Where Remora knowingly differs from Envoy 1.40: (outcomes, why).
DEVIATIONS = {
    # obs-fold and bare CR: issue #3 requires rejecting them (smuggling vectors).
    'obs-fold': (['error 400 http1.codec_error'], 'RFC 9112 §5.2 lets a server refuse obs-fold; Envoy strips the CRLF and forwards "a b"'),
    'obs-fold-tab': (['error 400 http1.codec_error'], 'as obs-fold'),
    'trailer-obs-fold': (['error+head 400 http1.codec_error'], 'as obs-fold'),
    'bare-cr-value': (['error 400 http1.invalid_characters'], 'RFC 9112 §2.2; Envoy deletes the CR and forwards "ab"'),
    'r/status-4digit': (['error 502 http1.codec_error'], 'status-code is 3DIGIT (RFC 9110 §15); Envoy forwards 2000'),
    'r/obs-fold': (['error 502 http1.codec_error'], 'as obs-fold'),
    'r/bare-cr': (['error 502 http1.invalid_characters'], 'as bare-cr-value'),
}

# Cases whose body never completes in the probe (the upstream answered
# early): the parser delivers the head, then the close cuts the body short.
INCOMPLETE = {'cl-max', 'chunk-size-16f'}
HCM_DETAILS = {'route_not_found', 'upgrade_failed', 'absolute_path_rejected', 'path_normalization_failed',
               'websocket_handshake_unsuccessful', 'via_upstream'}


def file_name(case_id):
    side = 'resp' if case_id.startswith('r/') else 'req'
    safe = ''.join(c if c.isalnum() or c in '-.' else '_' for c in case_id.split('/', 1)[-1])
    prefix = 'req10-' if case_id.startswith('10/') else side + '-'
    return prefix + safe + '.http'


# ---------------------------------------------------------------- run

ENVOY_CONFIG = '''
static_resources:
  listeners:
%(listeners)s
  clusters:
  - name: up
    connect_timeout: 1s
    type: STATIC
    # One request per upstream connection, so that what reaches the upstream
    # can be told apart per probe.
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        common_http_protocol_options: {max_requests_per_connection: 1}
        explicit_http_config: {http_protocol_options: {}}
    load_assignment:
      cluster_name: up
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 18081}}}
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 18082}}
'''
LISTENER = '''  - name: %(name)s
    address: {socket_address: {address: 127.0.0.1, port_value: %(port)d}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: %(name)s
%(extra)s          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: %(log)s
              log_format:
                text_format_source:
                  inline_string: "%%DOWNSTREAM_REMOTE_PORT%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%% %%RESPONSE_CODE_DETAILS%%\\n"
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: up}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
'''


class Upstream:
    """Logs what reaches it; answers each head with the current canned response."""

    def __init__(self):
        self.generation = 0
        self.received = {}
        self.response = b'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 18081))
        self.sock.listen(64)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(c, self.generation), daemon=True).start()

    def serve(self, c, generation):
        buf = b''
        c.settimeout(3)
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                self.received[generation] = self.received.get(generation, b'') + d
                buf += d
                while b'\r\n\r\n' in buf:
                    _, _, buf = buf.partition(b'\r\n\r\n')
                    resp = self.response
                    close = resp.endswith(b'<CLOSE>')
                    c.sendall(resp[:-7] if close else resp)
                    if close:
                        c.shutdown(socket.SHUT_WR)
                        time.sleep(0.2)
                        c.close()
                        return
        except OSError:
            pass
        c.close()


def exchange(port, data, wait=1.6):
    s = socket.create_connection(('127.0.0.1', port))
    local_port = s.getsockname()[1]
    s.settimeout(wait)
    s.sendall(data)
    got, closed, t0 = b'', False, time.time()
    try:
        while time.time() - t0 < wait:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            got += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    statuses = [int(m) for m in re.findall(rb'HTTP/1\.[01] (\d+) ', got)]
    return statuses, closed, local_port


def run(args):
    tmp = tempfile.mkdtemp(prefix='envoy-probe-')
    log = os.path.join(tmp, 'access.log')
    listeners = LISTENER % dict(name='req', port=18080, extra='', log=log)
    listeners += LISTENER % dict(name='req10', port=18083, log=log, extra=(
        '          http_protocol_options: {accept_http_10: true}\n'
        '          upgrade_configs: [{upgrade_type: websocket}]\n'))
    cfg = os.path.join(tmp, 'envoy.yaml')
    open(cfg, 'w').write(ENVOY_CONFIG % dict(listeners=listeners))
    upstream = Upstream()
    envoy = subprocess.Popen([args.envoy, '--disable-hot-restart', '--use-dynamic-base-id', '--concurrency', '1',
                              '--file-flush-interval-msec', '20', '-l', 'warning', '-c', cfg],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, 'envoy.log'), 'w'))
    try:
        for _ in range(50):
            try:
                socket.create_connection(('127.0.0.1', 18083)).close()
                break
            except OSError:
                time.sleep(0.1)
        results = {}
        for case_id, listener, data, _ in REQUESTS:
            results[case_id] = probe(upstream, log, 18083 if listener == 'req10' else 18080, data, None)
            print(case_id, results[case_id], flush=True)
        for case_id, method, response, _, _ in RESPONSES:
            request = (b'%s / HTTP/1.1\r\nHost: x\r\n\r\n' % method.encode())
            results[case_id] = probe(upstream, log, 18080, request, response)
            print(case_id, results[case_id], flush=True)
        version = subprocess.run([args.envoy, '--version'], capture_output=True, text=True).stdout.strip()
        json.dump({'envoy': version, 'results': results}, open(args.out, 'w'), indent=1)
    finally:
        envoy.terminate()
        envoy.wait()


def probe(upstream, log, port, data, response):
    upstream.generation += 1
    generation = upstream.generation
    if response is not None:
        upstream.response = response
    start = os.path.getsize(log) if os.path.exists(log) else 0
    statuses, closed, local_port = exchange(port, data)
    time.sleep(0.2)
    # Lines written since, for this connection only (a cut-short stream of an
    # earlier probe may log late, and local ports get reused).
    lines = []
    with open(log) if os.path.exists(log) else open(os.devnull) as f:
        f.seek(start)
        new = f.read().splitlines()
    for line in new:
        fields = line.split(' ', 1)
        if fields[0] == str(local_port):
            lines.append(fields[1])
    upstream.response = b'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'
    return {'statuses': statuses, 'closed': closed, 'upstream': generation in upstream.received, 'log': lines}


# ---------------------------------------------------------------- emit

def remora_outcomes(case_id, result, refused_details=None):
    """Outcomes the parser must produce, derived from what Envoy did."""
    if case_id in DEVIATIONS:
        return DEVIATIONS[case_id][0]
    if case_id in INCOMPLETE:
        return ['error+head 400 downstream_remote_disconnect']
    body_phase = case_id.split('/')[-1].startswith(('chunk-', 'trailer-', 'last-chunk'))
    out = []
    for line in result['log']:
        code, flags, details = (line.split(' ') + ['', ''])[:3]
        if case_id.startswith('r/'):
            if 'protocol_error' in details:
                after = 'after_response_started' in details
                out.append('error%s 502 %s' % ('+head' if after else '', refused_details))
            else:
                out.append('ok')
        elif details == 'downstream_remote_disconnect':
            out.append('error 400 downstream_remote_disconnect')
        elif 'DPE' in flags or details in ('missing_host_header', 'http.invalid_authority'):
            out.append('error%s %s %s' % ('+head' if body_phase else '', code, details))
        elif details in HCM_DETAILS:
            out.append('ok')
        else:
            raise SystemExit('unclassified result for %s: %s' % (case_id, line))
    if case_id == 'r/extra-bytes':
        out.append('error 502 http1.codec_error')
    return out


def swift_outcome(o):
    if o == 'ok':
        return '.ok'
    kind, status, details = o.split(' ', 2)
    return '.error(%s, "%s", afterHead: %s)' % (status, details, 'true' if kind.endswith('+head') else 'false')


def show(data, limit=90):
    text = data.decode('latin-1').replace('\\', '\\\\').replace('\r', '\\r').replace('\n', '\\n').replace('\t', '\\t')
    text = ''.join(c if 32 <= ord(c) < 127 else '\\x%02x' % ord(c) for c in text)
    if len(text) > limit:
        text = text[:limit] + '…(%d bytes)' % len(data)
    return text.replace('|', '\\|').replace('`', "'")


def emit(args):
    data = json.load(open(args.results))
    results = data['results']
    os.makedirs(CORPUS, exist_ok=True)
    swift = ['// Generated by Tests/Fuzz/EnvoyProbe/envoy_probe.py emit, from a run against',
             '// %s. Do not edit: change the script and re-run it.' % data['envoy'].split('version: ')[-1],
             '@testable import RemoraHTTP', '', 'extension EnvoyCase {', '    static let all: [EnvoyCase] = [']
    md = [open(os.path.join(HERE, 'header.md')).read().rstrip('\n') % dict(envoy=data['envoy'].split('version: ')[-1]), '']
    md.append('### Requests (downstream)\n')
    md.append('| case | bytes sent | Envoy status | Envoy details | closed | reached upstream | Remora parser | note |')
    md.append('|---|---|---|---|---|---|---|---|')
    for case_id, listener, payload, note in REQUESTS:
        r = results[case_id]
        outcomes = remora_outcomes(case_id, r)
        name = file_name(case_id)
        open(os.path.join(CORPUS, name), 'wb').write(payload)
        swift.append('        EnvoyCase(id: "%s", file: "%s", kind: .request, acceptHTTP10: %s, method: .get, expected: [%s]),'
                     % (case_id, name, 'true' if listener == 'req10' else 'false', ', '.join(map(swift_outcome, outcomes))))
        dev = DEVIATIONS.get(case_id)
        md.append('| %s | `%s` | %s | %s | %s | %s | %s | %s |' % (
            case_id, show(payload), ', '.join(map(str, r['statuses'])) or '—',
            '<br>'.join(l.split(' ', 1)[-1] for l in r['log']) or '—',
            'yes' if r['closed'] else 'no', 'yes' if r['upstream'] else 'no',
            '<br>'.join(outcomes), ('**deviation**: ' + dev[1]) if dev else note))
    md.append('\n### Responses (upstream)\n')
    md.append('Envoy answers every refused response with 502 `upstream_reset_before_response_started{protocol_error}` '
              '(UPE); the Remora column gives the parser\'s own details. The request sent was `GET` unless noted.\n')
    md.append('| case | bytes answered by the upstream | Envoy status downstream | Envoy details | Remora parser | note |')
    md.append('|---|---|---|---|---|---|')
    for case_id, method, payload, refused, note in RESPONSES:
        r = results[case_id]
        outcomes = remora_outcomes(case_id, r, refused)
        name = file_name(case_id)
        raw = payload[:-7] if payload.endswith(b'<CLOSE>') else payload
        open(os.path.join(CORPUS, name), 'wb').write(raw)
        swift.append('        EnvoyCase(id: "%s", file: "%s", kind: .response, acceptHTTP10: false, method: .%s, expected: [%s]),'
                     % (case_id, name, method.lower(), ', '.join(map(swift_outcome, outcomes))))
        dev = DEVIATIONS.get(case_id)
        md.append('| %s | `%s` | %s | %s | %s | %s |' % (
            case_id, show(payload), ', '.join(map(str, r['statuses'])) or '—',
            '<br>'.join(l.split(' ', 1)[-1] for l in r['log']) or '—', '<br>'.join(outcomes),
            ('**deviation**: ' + dev[1]) if dev else ('request `%s`; ' % method if method != 'GET' else '') + note))
    swift += ['    ]', '}', '']
    open(os.path.join(TESTS, 'EnvoyCases.swift'), 'w').write('\n'.join(swift))
    md.append(open(os.path.join(HERE, 'footer.md')).read().rstrip('\n'))
    open(os.path.join(TESTS, 'ENVOY_BEHAVIOUR.md'), 'w').write('\n'.join(md) + '\n')
    print('wrote %d corpus files, EnvoyCases.swift, ENVOY_BEHAVIOUR.md' % (len(REQUESTS) + len(RESPONSES)))


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--envoy', default=os.environ.get('ENVOY', '/tmp/venv/bin/envoy'))
    r.add_argument('--out', default=os.path.join(HERE, 'envoy_results.json'))
    e = sub.add_parser('emit')
    e.add_argument('--results', default=os.path.join(HERE, 'envoy_results.json'))
    a = p.parse_args()
    run(a) if a.cmd == 'run' else emit(a)
