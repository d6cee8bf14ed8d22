#!/usr/bin/env python3
"""Prints a coupon campaign's generated codes, one per line.

The coupons plug-in checks these codes itself from the campaign's
`generated` configuration (prefix, secret, count), so the store needs no
list of codes. Same algorithm as src/codes.rs: PREFIX-SSSSTTTTTTTT, Crockford
base32, SSSS the serial, TTTTTTTT the top 40 bits of SipHash-2-4 of
"PREFIX:serial" keyed by two SipHash-2-4 digests of the secret.

    python3 generate-codes.py --prefix SPR --secret '...' --count 5000 > codes.txt
    python3 generate-codes.py --prefix SPR --secret '...' --from 5000 --count 1000  # the next 1000
"""
import argparse
import struct
import sys

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MASK = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(k0, k1, data):
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & MASK; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK; v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & MASK; v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & MASK; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)

    def compress(m):
        v[3] ^= m
        rnd(); rnd()
        v[0] ^= m

    full = len(data) - len(data) % 8
    for i in range(0, full, 8):
        compress(struct.unpack("<Q", data[i:i + 8])[0])
    last = bytearray(8)
    last[: len(data) - full] = data[full:]
    last[7] = len(data) & 0xFF
    compress(struct.unpack("<Q", bytes(last))[0])
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def base32(value, chars):
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(chars)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--from", dest="start", type=int, default=0)
    args = parser.parse_args()
    prefix = args.prefix.strip().upper()
    k0 = siphash24(0, 0, f"livemall-coupons-k0:{args.secret}".encode())
    k1 = siphash24(0, 0, f"livemall-coupons-k1:{args.secret}".encode())
    if args.start < 0 or args.count < 0 or args.start + args.count > 1 << 20:
        sys.exit("serials run from 0 to 1048575")
    for serial in range(args.start, args.start + args.count):
        tag = siphash24(k0, k1, f"{prefix}:{serial}".encode()) >> 24
        print(f"{prefix}-{base32(serial, 4)}{base32(tag, 8)}")


if __name__ == "__main__":
    main()
