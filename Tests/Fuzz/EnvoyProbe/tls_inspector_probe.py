#!/usr/bin/env python3
"""Sends real and mutated ClientHellos to a real Envoy's tls_inspector and
records what it decided, for Remora's parser to be checked against
(Tests/RemoraFiltersTests/TLSInspectorEnvoyCasesTests.swift).

  Tests/Fuzz/EnvoyProbe/tls_inspector_probe.py [--envoy PATH] [--cases N] [--seed S]

Seeds are the files in Tests/Fuzz/corpus/tls/ (ClientHellos captured from
`openssl s_client`, and the built ones this script writes there). Each case
is a seed with structure-aware mutations (records re-cut, extensions
dropped, duplicated, truncated or grown, lengths off by one, versions,
compression, alerts and empty records in front, bytes flipped) and is
stored as the seed's name plus difflib opcodes, so the results file stays
small. Envoy (loopback, free ports) has a tls_inspector and eight
tcp_proxy chains, transport tls/raw_buffer x ALPN h2/http/1.1/x/none, to a
sink that closes at once; its access log gives the chain and SNI of each
connection (by client port). A connection with no log line was closed by
the inspector: quickly (a verdict: too large, close_notify) or at the
listener_filters_timeout (still waiting for bytes).

Outcomes: "tls <alpn> <sni>", "raw <alpn>", "closed", "timeout"; <alpn> is
the first of h2, http/1.1, x offered ("-" for none), <sni> as Envoy set it
("-" for none).
"""
import argparse, base64, difflib, json, os, random, socket, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CORPUS = os.path.join(REPO, 'Tests', 'Fuzz', 'corpus', 'tls')
OUT = os.path.join(HERE, 'tls_inspector_results.json')
ENVOY = os.path.join(REPO, '..', 'main', '.venv', 'lib', 'python3.11', 'site-packages', 'envoy', '_bin', 'envoy')
TIMEOUT = 0.6
ALPNS = ['h2', 'http/1.1', 'x']


def u16(n):
    return struct.pack('!H', n & 0xFFFF)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- ClientHello structure

def split_records(data):
    """Records as (type, version, body); None when the bytes are not whole records."""
    out, at = [], 0
    while at + 5 <= len(data):
        t, v, n = data[at], data[at + 1:at + 3], struct.unpack('!H', data[at + 3:at + 5])[0]
        if at + 5 + n > len(data):
            return None
        out.append((t, v, data[at + 5:at + 5 + n]))
        at += 5 + n
    return out if at == len(data) else None


def parse_hello(message):
    """(legacy_version, random, session_id, ciphers, compression, [(type, data)]) from a ClientHello message."""
    body = message[4:]
    at = 0
    version = body[0:2]; at = 2
    rnd = body[at:at + 32]; at += 32
    sid = body[at + 1:at + 1 + body[at]]; at += 1 + body[at]
    n = struct.unpack('!H', body[at:at + 2])[0]; ciphers = body[at + 2:at + 2 + n]; at += 2 + n
    comp = body[at + 1:at + 1 + body[at]]; at += 1 + body[at]
    exts = []
    if at < len(body):
        end = at + 2 + struct.unpack('!H', body[at:at + 2])[0]; at += 2
        while at < end:
            t, n = struct.unpack('!HH', body[at:at + 4])
            exts.append((t, body[at + 4:at + 4 + n])); at += 4 + n
    return version, rnd, sid, ciphers, comp, exts


def build_hello(version, rnd, sid, ciphers, comp, exts, with_ext_block=True):
    body = version + rnd + bytes([len(sid)]) + sid + u16(len(ciphers)) + ciphers + bytes([len(comp)]) + comp
    if with_ext_block:
        e = b''.join(u16(t) + u16(len(d)) + d for t, d in exts)
        body += u16(len(e)) + e
    return b'\x01' + struct.pack('!I', len(body))[1:] + body


def records(message, fragment=16384, rtype=22, version=b'\x03\x01'):
    out = b''
    for at in range(0, max(len(message), 1), fragment):
        piece = message[at:at + fragment]
        out += bytes([rtype]) + version + u16(len(piece)) + piece
    return out


def ext(t, d):
    return (t, d)


def sni_ext(name):
    return (0, u16(len(name) + 3) + b'\x00' + u16(len(name)) + name)


def alpn_ext(names):
    lst = b''.join(bytes([len(n)]) + n for n in names)
    return (16, u16(len(lst)) + lst)


def built_seeds():
    """ClientHellos the captured ones do not cover."""
    rnd = bytes(range(32))
    base = [sni_ext(b'built.example'), (43, b'\x04\x03\x04\x03\x03'), (10, u16(4) + u16(29) + u16(23)),
            (13, u16(4) + u16(0x0403) + u16(0x0804)), (45, b'\x01\x01'), (51, u16(0))]
    seeds = {
        'built-tls13.bin': records(build_hello(b'\x03\x03', rnd, b'\x07' * 32, u16(0x1301) + u16(0x1302), b'\x00', base)),
        'built-tls12-ems-ri.bin': records(build_hello(
            b'\x03\x03', rnd, b'', u16(0xC02F) + u16(0x00FF), b'\x00',
            [sni_ext(b'legacy.example'), (23, b''), (0xFF01, b'\x00'), (11, b'\x01\x00'), (10, u16(2) + u16(23)),
             (13, u16(2) + u16(0x0401)), (35, b''), (5, b'\x01\x00\x00\x00\x00'), alpn_ext([b'http/1.1'])])),
        'built-tls10-noext.bin': records(build_hello(b'\x03\x01', rnd, b'', u16(0x002F), b'\x00', [], with_ext_block=False)),
        'built-fragmented.bin': records(build_hello(b'\x03\x03', rnd, b'', u16(0x1301), b'\x00',
                                                    base + [alpn_ext([b'h2', b'x'])]), fragment=7),
        'built-sslv2.bin': (lambda b: bytes([0x80 | (len(b) >> 8), len(b) & 0xFF]) + b)(
            b'\x01\x03\x01' + u16(6) + u16(0) + u16(16) + b'\x07\x00\xc0\x00\x00\x2f' + b'\x09' * 16),
    }
    return seeds


# ---------------------------------------------------------------- mutations

def mutate(seed, rng):
    """One structure-aware mutation of a seed, or raw byte edits when it does not parse."""
    recs = split_records(seed)
    if not recs or any(t != 22 for t, _, _ in recs) or rng.random() < 0.12:
        return byte_edits(seed, rng)
    message = b''.join(b for _, _, b in recs)
    try:
        version, rnd, sid, ciphers, comp, exts = parse_hello(message)
    except (IndexError, struct.error):
        return byte_edits(seed, rng)
    rec_version, fragment = recs[0][1], max(len(recs[0][2]), 1)
    prefix, suffix, ext_block = b'', b'', True
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(22)
        if op == 0 and exts:
            exts.pop(rng.randrange(len(exts)))
        elif op == 1 and exts:
            exts.insert(rng.randrange(len(exts) + 1), rng.choice(exts))
        elif op == 2 and exts:
            i = rng.randrange(len(exts)); t, d = exts[i]
            exts[i] = (t, d[:rng.randrange(len(d) + 1)])
        elif op == 3 and exts:
            i = rng.randrange(len(exts)); t, d = exts[i]
            exts[i] = (t, d + bytes([rng.randrange(256)]))
        elif op == 4 and exts:
            i = rng.randrange(len(exts)); t, d = exts[i]
            if d:
                j = rng.randrange(len(d)); d = d[:j] + bytes([d[j] ^ (1 << rng.randrange(8))]) + d[j + 1:]
            exts[i] = (t, d)
        elif op == 5:
            exts.append(rng.choice([(43, b'\x02\x03\x00'), (43, b'\x02\x03\x04'), (43, b'\x03\x03\x03\x03'), (43, b''),
                                    (43, b'\x04\x7f\x1c\x03\x02'), (57, b''), (0xFFA5, b''), (0xFE0D, b''),
                                    (0xFE0D, b'\x01'), (0xFE0D, b'\x00' + u16(1) + u16(1) + b'\x07' + u16(1) + b'\x01' + u16(1) + b'\x02'),
                                    (27, b'\x04\x00\x02\x00\x02'), (27, b'\x02\x00\x02'), (42, b''), (42, b'\x00'),
                                    (45, b'\x00'), (23, b'\x00'), (18, b'\x00'), (13172, b'\x00'), (47, u16(0)),
                                    (34, u16(0)), (4832, b'\x00'), (0xCA34, u16(1) + b'\x00'), (0x8A3B, u16(0) * 3),
                                    (21, b'\x00' * rng.randrange(600)), (5, b''), (11, b'\x01\x01'), (0xFF01, b'\x01\x00'),
                                    sni_ext(b'Second.Example'), sni_ext(b''), sni_ext(b'a b'), sni_ext(b'*.Wild'), sni_ext('\u00e4'.encode()), sni_ext(b'a\x00b'), sni_ext(b'z' * 256),
                                    (0, u16(5) + b'\x01' + u16(2) + b'ab'), alpn_ext([b'h2']), alpn_ext([b'x', b'h2']),
                                    alpn_ext([b'http/1.1', b'']), (16, u16(0)), (16, u16(3) + b'\x05ab')]))
        elif op == 6:
            rng.shuffle(exts)
        elif op == 7:
            version = rng.choice([b'\x03\x00', b'\x03\x01', b'\x03\x02', b'\x03\x03', b'\x03\x04', b'\x03\x05', b'\x02\x00', b'\xfe\xfd'])
        elif op == 8:
            comp = rng.choice([b'', b'\x01', b'\x01\x00', b'\x00\x01', b'\x00\x00'])
        elif op == 9:
            sid = rng.choice([b'', b'\x01' * 32, b'\x01' * 33])
        elif op == 10:
            ciphers = rng.choice([b'', b'\x13', ciphers + b'\x56\x00', ciphers + b'\x00\xff', ciphers[:2]])
        elif op == 11:
            fragment = rng.choice([1, 2, 5, 50, 100, 16384])
        elif op == 12:
            rec_version = rng.choice([b'\x03\x00', b'\x03\x03', b'\x02\x01', b'\x03\xff', b'\x00\x00'])
        elif op == 13:
            prefix += rng.choice([b'\x15\x03\x01\x00\x02\x01\x5a', b'\x15\x03\x01\x00\x02\x02\x28', b'\x15\x03\x01\x00\x02\x01\x00',
                                  b'\x15\x03\x01\x00\x01\x01', b'\x16\x03\x01\x00\x00', b'\x17\x03\x01\x00\x01\x00',
                                  b'\x14\x03\x01\x00\x01\x01'] * rng.randint(1, 6))
        elif op == 14:
            suffix += rng.choice([b'\x16\x03\x01\x00\x02\x00\x00', b'\x17\x03\x03\x00\x01\x00', b'GET / HTTP/1.1\r\n'])
        elif op == 15:
            ext_block = not exts and rng.random() < 0.5
        elif op == 16:
            # The message with trailing handshake bytes in its record.
            suffix = b'TRAILING'
        elif op == 17:
            exts.append((21, b'\x00' * rng.choice([12000, 16000, 16200, 16300, 16330, 16400])))
        elif op == 18:
            exts.append((rng.randrange(0x10000), bytes(rng.randrange(256) for _ in range(rng.randrange(8)))))
        elif op == 19 and exts:
            i = rng.randrange(len(exts)); t, d = exts[i]
            exts[i] = (rng.choice([0, 5, 10, 11, 13, 16, 23, 27, 34, 42, 43, 45, 47, 51, 57, 0xFF01, 0xFE0D]), d)
        else:
            return byte_edits(seed, rng)
    message = build_hello(version, rnd, sid, ciphers, comp, exts, with_ext_block=ext_block or bool(exts))
    if suffix == b'TRAILING':
        return prefix + records(message + b'\x00', fragment, version=rec_version)
    out = prefix + records(message, fragment, version=rec_version) + suffix
    if rng.random() < 0.15:
        out = out[:rng.randrange(len(out) + 1)]
    return out


def byte_edits(seed, rng):
    b = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randrange(len(b)) if b else 0
        if op == 0 and b:
            b[at] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[at] = rng.choice([0, 1, 2, 3, 0x16, 0x80, 0xFF])
        elif op == 2:
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif op == 3 and b:
            del b[at:at + rng.randint(1, 8)]
        elif op == 4 and len(b) > 5:
            # A length field: the record's or the handshake message's.
            i = rng.choice([3, 4, 6, 7, 8])
            if i < len(b):
                b[i] = (b[i] + rng.choice([1, 255])) & 0xFF
        else:
            b = b[:at]
    return bytes(b)


def random_case(rng):
    return rng.choice([
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))),
        b'\x16\x03' + bytes(rng.randrange(256) for _ in range(rng.randrange(3, 40))),
        rng.choice([b'GET / HTTP/1.1\r\n\r\n', b'POST ', b'HEAD /', b'PUT /x', b'CONNECT x:1 HTTP/1.1\r\n', b'OPTIONS * HTTP/1.1\r\n',
                    b'SSH-2.0-x\r\n', b'\x00\x00\x00\x00\x00', b'\x80\x03\x01\x00\x01', b'\x80\x2e\x01\x03\x01']),
    ])


# ---------------------------------------------------------------- Envoy

ENVOY_CONFIG = """
admin: {address: {socket_address: {address: 127.0.0.1, port_value: %(admin)d}}}
static_resources:
  listeners:
  - name: probe
    address: {socket_address: {address: 127.0.0.1, port_value: %(port)d}}
    listener_filters_timeout: %(timeout)ss
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
    filter_chains:
%(chains)s
  clusters:
  - name: sink
    connect_timeout: 1s
    load_assignment: {cluster_name: sink, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %(sink)d}}}}]}]}
"""

CHAIN = """    - name: %(name)s
      filter_chain_match: {transport_protocol: %(transport)s%(alpn)s}
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: %(name)s
          cluster: sink
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: %(log)s
              log_format: {text_format_source: {inline_string: "%%DOWNSTREAM_REMOTE_PORT%% %(name)s %%REQUESTED_SERVER_NAME%%\\n"}}
"""


def chains(log):
    out = ''
    for transport in ('tls', 'raw_buffer'):
        for alpn in ALPNS + [None]:
            name = '%s_%s' % ('tls' if transport == 'tls' else 'raw', ALPNS.index(alpn) if alpn else 'none')
            out += CHAIN % dict(name=name, transport=transport, log=log,
                                alpn='' if alpn is None else ', application_protocols: ["%s"]' % alpn)
    return out


class Sink(threading.Thread):
    """Accepts and closes."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.close()


def send_case(port, data, results, index):
    start = time.monotonic()
    s = socket.socket()
    s.settimeout(TIMEOUT + 3)
    s.connect(('127.0.0.1', port))
    local = s.getsockname()[1]
    try:
        if data:
            s.sendall(data)
        while s.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    results[index] = (local, time.monotonic() - start)
    s.close()


def probe_all(envoy, cases):
    tmp = tempfile.mkdtemp(prefix='tls-probe-')
    log = os.path.join(tmp, 'access.log')
    sink = Sink()
    sink.start()
    port, admin = free_port(), free_port()
    cfg = os.path.join(tmp, 'envoy.yaml')
    open(cfg, 'w').write(ENVOY_CONFIG % dict(admin=admin, port=port, timeout=TIMEOUT, sink=sink.port, chains=chains(log)))
    proc = subprocess.Popen([envoy, '--disable-hot-restart', '--use-dynamic-base-id', '--concurrency', '1',
                             '--file-flush-interval-msec', '20', '-l', 'warning', '-c', cfg],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, 'envoy.log'), 'w'))
    try:
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port)).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(TIMEOUT + 0.5)
        outcomes = []
        for batch in range(0, len(cases), 64):
            chunk = cases[batch:batch + 64]
            results = [None] * len(chunk)
            threads = [threading.Thread(target=send_case, args=(port, data, results, i)) for i, data in enumerate(chunk)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.2)
            lines = {}
            for line in open(log).read().splitlines() if os.path.exists(log) else []:
                p, chain, sni = line.split(' ', 2)
                lines[int(p)] = (chain, sni)
            for local, elapsed in results:
                if local in lines:
                    chain, sni = lines.pop(local)
                    transport, index = chain.split('_')
                    alpn = '-' if index == 'none' else ALPNS[int(index)]
                    outcomes.append('tls %s %s' % (alpn, sni) if transport == 'tls' else 'raw %s' % alpn)
                else:
                    outcomes.append('timeout' if elapsed >= TIMEOUT * 0.9 else 'closed')
            open(log, 'w').close()
            print('%d/%d' % (batch + len(chunk), len(cases)), file=sys.stderr, flush=True)
        version = subprocess.run([envoy, '--version'], capture_output=True, text=True).stdout.strip().split('version: ')[-1]
        return version, outcomes
    finally:
        proc.terminate()
        proc.wait()


def edits(seed, data):
    """`data` as edits of `seed`: [[from, to, replacement]] (difflib opcodes), as JSON text."""
    return json.dumps([[i1, i2, run_length(data[j1:j2])] for tag, i1, i2, j1, j2 in
                       difflib.SequenceMatcher(None, seed, data, autojunk=False).get_opcodes() if tag != 'equal'],
                      separators=(',', ':'))


def run_length(data):
    """Hex, with runs of 8 or more equal bytes as `<count>*<hh>`, segments joined by commas."""
    out, at = [], 0
    while at < len(data):
        end = at
        while end < len(data) and data[end] == data[at]:
            end += 1
        if end - at >= 8:
            out.append('%d*%02x' % (end - at, data[at]))
            at = end
        else:
            start = at
            while at < len(data):
                end = at
                while end < len(data) and data[end] == data[at]:
                    end += 1
                if end - at >= 8:
                    break
                at = end
            out.append(data[start:at].hex())
    return ','.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--envoy', default=ENVOY)
    ap.add_argument('--cases', type=int, default=1500)
    ap.add_argument('--seed', type=int, default=20261206)
    args = ap.parse_args()
    os.makedirs(CORPUS, exist_ok=True)
    for name, data in built_seeds().items():
        open(os.path.join(CORPUS, name), 'wb').write(data)
    seeds = {n: open(os.path.join(CORPUS, n), 'rb').read() for n in sorted(os.listdir(CORPUS))}
    rng = random.Random(args.seed)
    entries, cases = [], []
    for name, data in seeds.items():
        entries.append((name, data)); cases.append(data)
    while len(cases) < args.cases:
        if rng.random() < 0.05:
            data, name = random_case(rng), None
        else:
            name = rng.choice(sorted(seeds))
            data = mutate(seeds[name], rng)
            if len(edits(seeds[name], data)) > 3000:
                continue  # tiny records around a big ClientHello: too many edits to store
        entries.append((name, data)); cases.append(data)
    version, outcomes = probe_all(args.envoy, cases)
    out = []
    for (name, data), outcome in zip(entries, outcomes):
        if name is None:
            out.append({'bytes': base64.b64encode(data).decode(), 'envoy': outcome})
            continue
        out.append({'seed': name, 'edits': json.loads(edits(seeds[name], data)), 'envoy': outcome})
    with open(OUT, 'w') as f:
        f.write('{"envoy": %s, "seed": %d, "cases": [\n' % (json.dumps(version), args.seed))
        f.write(',\n'.join(json.dumps(c, separators=(',', ':')) for c in out))
        f.write('\n]}\n')
    counts = {}
    for o in outcomes:
        k = o.split(' ')[0]
        counts[k] = counts.get(k, 0) + 1
    print(OUT, counts)


if __name__ == '__main__':
    main()
