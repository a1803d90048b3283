#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target into fuzz/seeds/TARGET/.

Sources: the RFC 4475 torture messages (crates/sip/tests/torture/*.dat),
the <send> blocks of the project's sipp scenarios (tests/scenarios/*.xml),
and hand-written SDP bodies, URIs, header values, digest headers, RTP and
RFC 4733 packets. Run from anywhere: `python3 fuzz/seeds/gen_seeds.py`.
The output is deterministic; the files are committed.
"""
import os
import re
import shutil
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent.parent
ROOT = FUZZ.parent
SEEDS = FUZZ / "seeds"
TORTURE = ROOT / "crates/sip/tests/torture"
SCENARIOS = ROOT / "tests/scenarios"

TARGETS = ["sip_message", "sip_uri", "sip_headers", "digest", "sdp", "rtp", "rtcp", "dtmf",
           "jitter", "forward", "timeline", "transaction", "switch"]


def reset():
    for t in TARGETS:
        d = SEEDS / t
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    (SEEDS / target / name).write_bytes(data)


def sends(xml):
    """The CDATA of each <send> of a sipp scenario, in order."""
    text = xml.read_text(encoding="latin-1")
    return re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", text, re.S)


def concrete(template, service="5000", ip="127.0.1.1", port="5060"):
    """A sipp template with plausible values (for the stateless targets)."""
    vals = {
        "service": service, "remote_ip": "127.0.0.1", "remote_port": "5060",
        "local_ip": ip, "local_port": port, "media_ip": ip, "media_port": "40000",
        "transport": "UDP", "local_ip_type": "4", "media_ip_type": "4",
        "pid": "42", "call_number": "1", "call_id": "1-42@" + ip,
        "branch": "z9hG4bK-seed-1", "peer_tag_param": ";tag=abc",
        "next_url": "sip:" + service + "@127.0.0.1:5060",
        "routes": "Route: <sip:127.0.0.1:5060;lr>", "field0": "1001",
        "field1": 'Authorization: Digest username="1001", realm="switchboard", nonce="n", uri="sip:127.0.0.1:5060", response="00000000000000000000000000000000", algorithm=MD5',
        "authentication": 'Proxy-Authorization: Digest username="1001", realm="switchboard", nonce="n", uri="sip:5000@127.0.0.1:5060", response="00000000000000000000000000000000", algorithm=MD5',
        "last_Via:": "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsw1;rport",
        "last_From:": "From: <sip:5000@127.0.0.1>;tag=sw1",
        "last_To:": "To: <sip:1001@127.0.1.1:5060>",
        "last_Call-ID:": "Call-ID: sw-1@127.0.0.1",
        "last_CSeq:": "CSeq: 1 INVITE",
        "last_Record-Route:": "",
        "last_Contact:": "Contact: <sip:switchboard@127.0.0.1:5060>",
    }
    lines = []
    in_body = False
    body = []
    for raw in template.strip("\r\n ").split("\n"):
        line = raw.strip()
        if not in_body and not line:
            in_body = True
            continue

        def sub(m):
            key = m.group(1)
            if key.startswith("authentication"):
                key = "authentication"
            return vals.get(key, m.group(0))

        out = re.sub(r"\[([^\]\[]+)\]", sub, line)
        if in_body:
            body.append(out)
        elif out.strip():
            lines.append(out)
    while body and not body[-1].strip():
        body.pop()
    b = ("\r\n".join(body) + "\r\n") if body else ""
    head = "\r\n".join(lines).replace("[len]", str(len(b)))
    return (head + "\r\n\r\n" + b).encode()


def dedent(t):
    return "\n".join(l.strip() for l in t.strip("\n").split("\n")) + "\n"


def sip_messages():
    n = 0
    for f in sorted(TORTURE.glob("*.dat")):
        put("sip_message", "torture_" + f.stem, f.read_bytes())
        n += 1
    for xml in sorted(SCENARIOS.glob("*.xml")):
        for i, t in enumerate(sends(xml)):
            put("sip_message", f"{xml.stem}_{i}", concrete(t))
    # A response with a body and a TCP-style keep-alive prefix.
    put("sip_message", "keepalive_options",
        b"\r\n\r\nOPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKk\r\n"
        b"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: k1\r\nCSeq: 1 OPTIONS\r\n"
        b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


URIS = [
    "sip:alice@example.com", "sip:alice%20x@Example.COM:5070;transport=tcp;lr?subject=hi",
    "sips:[2001:db8::10]:5061;maddr=10.0.0.1", "sip:[::1]", "tel:+1-555-1234;phone-context=x",
    "sip:user;par=1@host;lr", "sip:user:pass@host:0", "sip:%41%42@h", "mailto:a@b",
    "sip:1001@127.0.1.1:5060;transport=UDP", "sip:*66@pbx?Replaces=abc%3Bto-tag%3D1",
    "sip:host:65535", "sip:a@b@c", "SIP:HOST", "sip:[fe80::1%25eth0]:5060",
]


def uris():
    for i, u in enumerate(URIS):
        put("sip_uri", f"uri_{i:02}", u)


HEADERS = [
    (0, "SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds;rport;received=1.2.3.4"),
    (0, "SIP / 2.0 / TCP [2001:db8::1]:5070 ; branch = z9hG4bKx"),
    (0, "SIP/2.0/UDP host:99999;branch="),
    (1, '"Bob \\"B\\"" <sip:bob@h;lr>;tag=abc;expires=30'),
    (1, "sip:bob@h;tag=x"),
    (1, "Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43"),
    (1, "<sip:1001@127.0.1.1:5060;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:1>\""),
    (1, "\"\xe4\xf6\" <sips:x@[::1]>"),
    (2, "314159 INVITE"), (2, "4294967295 BYE"), (2, "-1 ACK"),
    (3, ";a=b;c;d=\"q;r\";;"),
    (4, "<sip:a@b>, \"x, y\" <sip:c@d>;q=0.5, sip:e@f"),
    (5, "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1, SIP/2.0/TCP 10.0.0.1:5060"),
]


def headers():
    for i, (sel, v) in enumerate(HEADERS):
        put("sip_headers", f"header_{i:02}", bytes([sel]) + v.encode("latin-1"))


DIGEST = [
    # flags bit0: NONCE -> real nonce, bit1: RESPONSE -> right answer.
    (3, 'Digest username="1001", realm="switchboard", nonce="NONCE", uri="sip:5000@127.0.0.1", response="RESPONSE", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc"'),
    (3 | 4, 'Digest username="1002", realm="switchboard", nonce="NONCE", uri="sip:5000@127.0.0.1", response="RESPONSE", algorithm=SHA-256, qop=auth, nc=0000000a, cnonce="x"'),
    (3 | 0x40, 'Digest username="1001", realm="switchboard", nonce="NONCE", uri="sip:127.0.0.1", response="RESPONSE"'),
    (3 | 0x20, 'Digest username="1001", realm="switchboard", nonce="NONCE", uri="sip:5000@127.0.0.1", response="RESPONSE", qop=auth, nc=00000001, cnonce="c"'),
    (1, 'Digest username="1001", realm="switchboard", nonce="NONCE", uri="sip:5000@127.0.0.1", response="00112233445566778899aabbccddeeff", qop=auth, nc=00000001, cnonce="c"'),
    (0, 'Digest realm="switchboard", nonce="1-2-00", algorithm=MD5, qop="auth,auth-int", opaque="o", stale=true'),
    (0, 'Digest username="a\\"b", realm=, nonce="", uri=, response'),
    (0, 'Basic dXNlcjpwYXNz'),
    (0, 'digest    username  =  "1001"  ,  nc = ffffffff , qop = AUTH'),
]


def digests():
    for i, (flags, h) in enumerate(DIGEST):
        put("digest", f"digest_{i:02}", bytes([flags]) + h.encode())


SDPS = [
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendonly\r\n",
    b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n",
    b"v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\nm=video 5000 RTP/AVP 96\nm=audio 6000/2 RTP/SAVP 0 18\nc=IN IP6 ::1/127\na=inactive\n",
    b"v=0\r\nc=IN IP4 224.2.1.1/127/3\r\na=recvonly\r\nm=audio 0 RTP/AVP 0\r\n",
    b"v=0\r\nm=audio 65535 RTP/AVP 0 8 101 13\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:101 TELEPHONE-EVENT/8000\r\na=rtpmap:300 x/1\r\n",
]


def sdps():
    for i, s in enumerate(SDPS):
        put("sdp", f"sdp_{i:02}", s)
    n = 0
    for xml in sorted(SCENARIOS.glob("*.xml")):
        for t in sends(xml):
            msg = concrete(t)
            if b"\r\n\r\nv=0" in msg:
                put("sdp", f"{xml.stem}_{n}", msg.split(b"\r\n\r\n", 1)[1])
                n += 1


def rtp_packet(pt, seq, ts, ssrc, payload, marker=False, csrc=(), ext=None, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrc)
    out = struct.pack("!BBHII", b0, pt | (0x80 if marker else 0), seq, ts, ssrc)
    for c in csrc:
        out += struct.pack("!I", c)
    if ext is not None:
        out += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    out += payload
    if pad:
        out += bytes(pad - 1) + bytes([pad])
    return out


def rtps():
    put("rtp", "pcmu_20ms", rtp_packet(0, 1, 160, 0x1234, bytes([0xFF]) * 160))
    put("rtp", "pcma_marker", rtp_packet(8, 65535, 0xFFFFFF60, 7, bytes([0xD5]) * 160, marker=True))
    put("rtp", "event_end", rtp_packet(101, 5, 1000, 9, bytes([5, 0x8A, 0x03, 0x20])))
    put("rtp", "csrc_ext_pad", rtp_packet(0, 2, 320, 3, b"\x01\x02\x03", csrc=(1, 2), ext=b"\x10\x20\x30\x40", pad=3))
    put("rtp", "rtcp_sr", bytes([0x80, 200, 0, 6]) + bytes(24))
    put("rtp", "too_short", b"\x80\x00\x00")


def rtcps():
    ours = 0x11223344

    def block(ssrc):
        return struct.pack("!IIIIII", ssrc, (12 << 24) | 35, 0x00010064, 80, 0x12345678, 65536)

    def sdes(ssrc, cname=b"phone@example"):
        item = bytes([1, len(cname)]) + cname + b"\0"
        item += bytes((-len(item)) % 4)
        body = struct.pack("!I", ssrc) + item
        return struct.pack("!BBH", 0x81, 202, len(body) // 4) + body

    sr_body = struct.pack("!IQIII", 0x5150, 0xE8A1B2C3D4E5F607, 160000, 1000, 160000) + block(ours)
    sr = struct.pack("!BBH", 0x81, 200, len(sr_body) // 4) + sr_body
    rr_body = struct.pack("!I", 0x5150) + block(ours) + block(7)
    rr = struct.pack("!BBH", 0x82, 201, len(rr_body) // 4) + rr_body
    rtp = b""
    for i in range(12):
        rtp += struct.pack("!HII", 100 + i + (3 if i > 6 else 0), 160 * i, 160 * i + (i * 37) % 90)
    head = struct.pack("!IB", ours, 12) + rtp
    put("rtcp", "sr_sdes", head + sr + sdes(0x5150))
    put("rtcp", "rr_two_blocks", head + rr + sdes(0x5150))
    put("rtcp", "sr_not_about_us", struct.pack("!IB", 1, 0) + sr)
    put("rtcp", "bye", struct.pack("!IB", ours, 0) + struct.pack("!BBHI", 0x81, 203, 1, 0x5150))


def dtmfs():
    def pkt(dts, payload):
        return struct.pack("!HB", dts, len(payload)) + payload
    # Digit 5: three progress packets, three end packets; then '*' twice.
    s = b""
    for i in range(3):
        s += pkt(0 if i else 1000, bytes([5, 10]) + struct.pack("!H", 160 * (i + 1)))
    for i in range(3):
        s += pkt(0, bytes([5, 0x8A]) + struct.pack("!H", 800))
    for i in range(3):
        s += pkt(800 if i == 0 else 0, bytes([10, 0x80]) + struct.pack("!H", 480))
    s += pkt(800, bytes([16, 0x80, 0, 1]))
    s += pkt(800, b"\x01\x02")
    put("dtmf", "digits", s)


def programs():
    # Byte programs for the media targets: each op is a selector byte and
    # its little-endian arguments (see fuzz/src/media_targets.rs).
    steady = b""
    for i in range(30):
        steady += bytes([0, 0]) + struct.pack("<H", 160) + bytes([0]) + struct.pack("<H", 160)
        if i % 2:
            steady += bytes([2, 0])
    put("jitter", "steady", steady)
    reorder = b""
    for i in range(20):
        reorder += bytes([0, 1]) + struct.pack("<H", 160) + bytes([1 if i % 3 == 0 else 0]) + struct.pack("<H", 200 + i * 37)
        reorder += bytes([2, 1])
    reorder += bytes([0, 2]) + struct.pack("<H", 80) + bytes([3]) + struct.pack("<I", 0xFFFFFF00) + struct.pack("<H", 160)
    reorder += bytes([2, 7, 3, 1])
    put("jitter", "reorder_jump", reorder)
    fwd = b""
    for i in range(20):
        fwd += bytes([0, i // 10]) + struct.pack("<H", 160) + bytes([0, 0])
        fwd += bytes([5]) + struct.pack("<I", 20000)
    fwd += bytes([2, 1, 1, 3, 4]) + struct.pack("<h", -160) + bytes([1])
    fwd += bytes([0, 3]) + struct.pack("<H", 160) + bytes([2, 0, 2]) + struct.pack("<I", 123456)
    put("forward", "bridge_then_mix", bytes([0, 0, 0, 0, 0, 0]) + fwd)
    tl = b""
    for i in range(40):
        tl += bytes([0]) + struct.pack("<H", 160)
        tl += bytes([1, i % 2, i % 2]) + struct.pack("<H", 160) + bytes([0])
        tl += bytes([3])
    tl += bytes([4])
    put("timeline", "two_channels", tl)


def script(*steps):
    return "%%%".join(steps).encode()


def block(xml, i, **kw):
    return sends(SCENARIOS / xml)[i].strip("\r\n") + "\n"


def switch_scripts():
    s = lambda p, t, service="5000": f"sip {p}\n" + dedent(t.replace("[service]", service))
    basic = sends(SCENARIOS / "uac_basic_rr.xml")
    put("switch", "trunk_call_answered.txt", script(
        "agent 0 1\n", s(0, basic[0]), "answer 1 180\n", "answer 1 200\n", s(0, basic[1]),
        "dtmf 0 5\n", "cmd 0 0\n", "cmd 0 1\n", "wait 2000\n", s(0, basic[2]), "wait 40000\n"))
    put("switch", "trunk_call_agent_hangs_up.txt", script(
        "agent 1 1\n", s(0, basic[0], "5001"), "answer 2 200\n", s(0, basic[1]),
        "wait 1000\n", "cmd 1 11\n", "answer 0 200\n", "wait 40000\n"))
    put("switch", "trunk_call_queue_timeout.txt", script(
        s(0, basic[0]), "wait 310000\n", "answer 0 200\n", "wait 40000\n"))
    put("switch", "transfer_blind.txt", script(
        "agent 0 1\n", "agent 1 1\n", s(0, basic[0]), "answer 1 200\n", s(0, basic[1]),
        "cmd 0 2\n", "answer 2 180\n", "answer 2 200\n", "answer 1 200\n", "wait 5000\n",
        s(0, basic[2]), "wait 40000\n"))
    put("switch", "consult_confer.txt", script(
        "agent 0 1\n", "agent 2 1\n", s(0, basic[0]), "answer 1 200\n", s(0, basic[1]),
        "cmd 0 0\n", "cmd 0 4\n", "answer 3 200\n", "cmd 0 8\n", "cmd 0 9 1\n", "cmd 0 6\n",
        "wait 3000\n", "cmd 2 11\n", "answer 1 200\n", "answer 0 200\n", "wait 40000\n"))
    cancel = sends(SCENARIOS / "uac_cancel.xml")
    put("switch", "trunk_cancel.txt", script(
        "agent 0 1\n", s(0, cancel[0]), "answer 1 180\n", "wait 1000\n", s(0, cancel[1]),
        "answer 1 487\n", s(0, cancel[2]) if len(cancel) > 2 else "wait 1\n", "wait 40000\n"))
    hold = sends(SCENARIOS / "uac_hold_resume.xml")
    put("switch", "reinvite_hold_resume.txt", script(
        "agent 0 1\n", *[x for i, t in enumerate(hold) for x in
                         ([s(0, t)] + (["answer 1 200\n"] if i == 0 else []) + ["wait 500\n"])],
        "wait 40000\n"))
    refer = sends(SCENARIOS / "uac_refer_blind.xml")
    put("switch", "refer_blind.txt", script(
        "agent 0 1\n", "agent 1 1\n", s(0, refer[0]), "answer 1 200\n", s(0, refer[1]),
        s(0, refer[2]), "answer 2 200\n", s(0, refer[3]), "wait 5000\n", "wait 40000\n"))
    auth = sends(SCENARIOS / "uac_auth_rr.xml")
    put("switch", "agent_calls_agent_with_auth.txt", script(
        "agent 1 1\n", s(1, auth[0], "1002"), s(1, auth[1], "1002"), s(1, auth[2], "1002"),
        "answer 2 180\n", "answer 2 200\n", s(1, auth[3], "1002"), "wait 1000\n",
        s(1, auth[4], "1002"), "wait 40000\n"))
    put("switch", "agent_calls_number.txt", script(
        s(2, auth[0], "0123456789"), s(2, auth[2], "0123456789"), "answer 0 183\n",
        "answer 0 200\n", s(2, auth[3], "0123456789"), "dtmf 1 11\n", "rtptimeout 0\n",
        "wait 70000\n"))
    replay = sends(SCENARIOS / "uac_auth_replay.xml")
    put("switch", "auth_replay.txt", script(
        s(3, auth[0], "1001"), s(3, auth[2], "1001"), s(3, replay[0], "1001"),
        *(s(3, t, "1001") for t in replay[1:]), "wait 40000\n"))
    rr = sends(SCENARIOS / "uas_rr.xml")
    put("switch", "click_to_call_uas.txt", script(
        "dial 0 0\n", s(1, rr[0]), s(1, rr[1]), "answer 0 180\n", "answer 0 200\n",
        "wait 2000\n", "snapshot\n", "cmd 0 11\n", s(1, rr[2]) if len(rr) > 2 else "wait 1\n",
        "answer 0 200\n", "wait 40000\n"))
    reg = sends(SCENARIOS / "reg_uac_auth.xml")
    put("switch", "register_scanner.txt", script(
        s(4, reg[0]), s(4, reg[1]), s(1, reg[0]), s(1, reg[1]),
        "raw 4\nOPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.9.9:5070;branch=z9hG4bKscan\r\nFrom: <sip:100@127.0.0.1>;tag=s\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: scan1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        "overload 1\n", s(0, basic[0]), "overload 0\n", "wait 1000\n"))
    put("switch", "register_only.txt", script("wait 1000\n"))


def transaction_scripts():
    s = lambda p, t, service="5000": f"sip {p}\n" + dedent(t.replace("[service]", service))
    basic = sends(SCENARIOS / "uac_basic_rr.xml")
    put("transaction", "invite_answered.txt", script(
        s(1, basic[0]), "answer 0 180\n", "answer 0 200\n", s(1, basic[1]), "wait 2000\n",
        s(1, basic[2]), "answer 0 200\n", "wait 40000\n"))
    put("transaction", "invite_rejected_retransmitted.txt", script(
        s(1, basic[0]), "answer 0 486\n", "wait 600\n", "wait 1200\n", s(1, basic[1]),
        "wait 40000\n"))
    cancel = sends(SCENARIOS / "uac_cancel.xml")
    put("transaction", "cancel.txt", script(
        s(0, cancel[0]), "answer 0 180\n", s(0, cancel[1]), "answer 0 200\n", "answer 1 487\n",
        s(0, cancel[2]) if len(cancel) > 2 else "wait 1\n", "wait 40000\n"))
    rr = sends(SCENARIOS / "uas_rr.xml")
    put("transaction", "client_invite_uas.txt", script(
        "send 1\n" + dedent(basic[0].replace("[service]", "1001")), s(1, rr[0]), s(1, rr[1]),
        "wait 100\n", "send 1\n" + dedent(basic[2].replace("[service]", "1001")),
        "wait 40000\n"))
    put("transaction", "client_timeout.txt", script(
        "send 2\n" + dedent(basic[0].replace("[service]", "1002")), "wait 1000\n",
        "wait 64000\n"))


def main():
    reset()
    sip_messages()
    uris()
    headers()
    digests()
    sdps()
    rtps()
    rtcps()
    dtmfs()
    programs()
    switch_scripts()
    transaction_scripts()
    for t in TARGETS:
        print(t, len(os.listdir(SEEDS / t)))


if __name__ == "__main__":
    main()
