#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-netif-input: valid Ethernet frames for the fuzzer's stack.

The stack is 10.9.0.2/24 and fd09::2/64 at 02:00:00:09:00:02 (fuzz_netif_input.cc); the peer
is 10.9.0.7 / fd09::7 at 02:00:00:09:00:07. TCP segments after the SYN carry seq = ack = 0,
which the harness replaces with the stack's own numbers (it cannot be guessed otherwise).

Usage: make_corpus.py [OUTDIR]   (default: corpus/netif_input next to this script)
"""
import ipaddress
import os
import struct
import sys

STACK_MAC = bytes.fromhex("020000090002")
PEER_MAC = bytes.fromhex("020000090007")
BROADCAST = b"\xff" * 6
STACK4 = ipaddress.IPv4Address("10.9.0.2").packed
PEER4 = ipaddress.IPv4Address("10.9.0.7").packed
STACK6 = ipaddress.IPv6Address("fd09::2").packed
PEER6 = ipaddress.IPv6Address("fd09::7").packed

TCP_FIN, TCP_SYN, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x08, 0x10


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, ethertype, payload):
    return dst + PEER_MAC + struct.pack("!H", ethertype) + payload


def ipv4(proto, payload, ident=1, frag=0x4000, total=None):
    total = total if total is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, frag, 64, proto, 0, PEER4, STACK4)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return eth(STACK_MAC, 0x0800, hdr + payload)


def ipv6(nh, payload, dst=STACK6, dst_mac=STACK_MAC, hops=64):
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hops, PEER6, dst)
    return eth(dst_mac, 0x86DD, hdr + payload)


def pseudo4(proto, length):
    return PEER4 + STACK4 + struct.pack("!BBH", 0, proto, length)


def pseudo6(nh, length, dst=STACK6):
    return PEER6 + dst + struct.pack("!IxxxB", length, nh)


def with_sum(segment, at, pseudo):
    s = checksum(pseudo + segment)
    return segment[:at] + struct.pack("!H", s) + segment[at + 2:]


def tcp(sport, seq, ack, flags, options=b"", payload=b""):
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, 80, seq, ack, off << 4, flags, 64240, 0, 0)
    return hdr + options + payload


def udp(sport, payload):
    return struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload


def tcp4(*args, **kw):
    seg = tcp(*args, **kw)
    return ipv4(6, with_sum(seg, 16, pseudo4(6, len(seg))))


def tcp6(*args, **kw):
    seg = tcp(*args, **kw)
    return ipv6(6, with_sum(seg, 16, pseudo6(6, len(seg))))


def icmp6(body, dst=STACK6, dst_mac=STACK_MAC):
    return ipv6(58, with_sum(body, 2, pseudo6(58, len(body), dst)), dst, dst_mac, hops=255)


def arp(op, dst_mac, target_mac):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, PEER_MAC, PEER4, target_mac, STACK4)
    return eth(dst_mac, 0x0806, body)


MSS = struct.pack("!BBH", 2, 4, 1460)
SYN_OPTIONS = MSS + b"\x04\x02" + struct.pack("!BBII", 8, 10, 1, 0) + b"\x01\x03\x03\x07"
DATA_OPTIONS = b"\x01\x01" + struct.pack("!BBII", 8, 10, 2, 1) + b"\x01\x01" + struct.pack("!BBII", 5, 10, 100, 200)
HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
DNS_QUERY = bytes.fromhex("123401000001000000000000") + b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)


def fragments():
    """A UDP datagram to port 53 in two IPv4 fragments (offsets in 8-byte units, RFC 791)."""
    seg = udp(40003, bytes(range(48)))
    seg = with_sum(seg, 6, pseudo4(17, len(seg)))
    first, rest = seg[:24], seg[24:]
    return {
        "ipv4_frag_first": ipv4(17, first, ident=0x4242, frag=0x2000),
        "ipv4_frag_last": ipv4(17, rest, ident=0x4242, frag=24 // 8),
    }


def frames():
    solicited = ipaddress.IPv6Address("ff02::1:ff00:2").packed
    out = {
        "arp_request": arp(1, BROADCAST, b"\0" * 6),
        "arp_reply": arp(2, STACK_MAC, STACK_MAC),
        "ipv4_icmp_echo": ipv4(1, with_sum(struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + bytes(32), 2, b"")),
        "ipv4_tcp_syn": tcp4(40000, 1000, 0, TCP_SYN),
        "ipv4_tcp_syn_options": tcp4(40001, 5000, 0, TCP_SYN, SYN_OPTIONS),
        "ipv4_tcp_ack": tcp4(40000, 0, 0, TCP_ACK),
        "ipv4_tcp_data_options": tcp4(40000, 0, 0, TCP_ACK | TCP_PSH, DATA_OPTIONS, HTTP_GET),
        "ipv4_tcp_fin": tcp4(40000, 0, 0, TCP_ACK | TCP_FIN),
        "ipv4_udp_dns": ipv4(17, with_sum(udp(40053, DNS_QUERY), 6, pseudo4(17, 8 + len(DNS_QUERY)))),
        "ipv6_neighbour_solicitation": icmp6(
            struct.pack("!BBHI16s", 135, 0, 0, 0, STACK6) + b"\x01\x01" + PEER_MAC, solicited,
            bytes.fromhex("3333ff000002")),
        "ipv6_neighbour_advertisement": icmp6(
            struct.pack("!BBHI16s", 136, 0, 0, 0x60000000, PEER6) + b"\x02\x01" + PEER_MAC),
        "ipv6_icmp_echo": icmp6(struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1) + bytes(32)),
        "ipv6_tcp_syn": tcp6(40002, 7000, 0, TCP_SYN, MSS),
        "ipv6_tcp_ack": tcp6(40002, 0, 0, TCP_ACK),
        "ipv6_udp_dns": ipv6(17, with_sum(udp(40054, DNS_QUERY), 6, pseudo6(17, 8 + len(DNS_QUERY)))),
    }
    out.update(fragments())
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "netif_input")
    os.makedirs(outdir, exist_ok=True)
    for name, frame in sorted(frames().items()):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(frame)


if __name__ == "__main__":
    main()
