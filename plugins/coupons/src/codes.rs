//! Bulk codes without a list: each code carries its serial number and a
//! 40-bit tag that only the campaign's secret can produce, so the plug-in
//! checks a code by recomputing its tag and a merchant hands out thousands
//! of codes with a configuration of three fields.
//!
//! A code is `PREFIX-SSSSTTTTTTTT` in Crockford base32 (digits and capitals
//! without I, L, O, U; read case-insensitively, with O as 0 and I, L as 1):
//! `SSSS` is the serial (0 to `count - 1`), `TTTTTTTT` the first 40 bits of
//! SipHash-2-4 of `PREFIX:serial`, keyed by two SipHash-2-4 digests of the
//! secret. `generate-codes.py` beside this crate makes the same codes.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const SERIAL_CHARS: usize = 4;
const TAG_CHARS: usize = 8;
/// Largest `count` a campaign may generate (4 base32 characters of serial).
pub const MAX_SERIALS: u32 = 1 << 20;

fn rotl(x: u64, b: u32) -> u64 {
    x.rotate_left(b)
}

/// SipHash-2-4 of `data` with the key `(k0, k1)`.
pub fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = rotl(v[1], 13) ^ v[0];
        v[0] = rotl(v[0], 32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = rotl(v[3], 16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = rotl(v[3], 21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = rotl(v[1], 17) ^ v[2];
        v[2] = rotl(v[2], 32);
    }
    let compress = |m: u64, v: &mut [u64; 4]| {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    };
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        compress(u64::from_le_bytes(word), &mut v);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    last[7] = data.len() as u8;
    compress(u64::from_le_bytes(last), &mut v);
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// A campaign's code generator: its prefix (upper case) and secret key.
pub struct Generator {
    prefix: String,
    k0: u64,
    k1: u64,
}

impl Generator {
    /// A generator for codes starting with `prefix`, keyed by `secret`.
    pub fn new(prefix: &str, secret: &str) -> Generator {
        let key = |label: &str| {
            siphash24(
                0,
                0,
                format!("livemall-coupons-{label}:{secret}").as_bytes(),
            )
        };
        Generator {
            prefix: prefix.trim().to_ascii_uppercase(),
            k0: key("k0"),
            k1: key("k1"),
        }
    }

    fn tag(&self, serial: u32) -> u64 {
        siphash24(
            self.k0,
            self.k1,
            format!("{}:{serial}", self.prefix).as_bytes(),
        ) >> 24
    }

    /// The code with this serial number.
    pub fn code(&self, serial: u32) -> String {
        let mut out = format!("{}-", self.prefix);
        push_base32(&mut out, u64::from(serial), SERIAL_CHARS);
        push_base32(&mut out, self.tag(serial), TAG_CHARS);
        out
    }

    /// The serial of `code` (already upper case) when it is one of the first
    /// `count` codes of this generator.
    pub fn serial_of(&self, code: &str, count: u32) -> Option<u32> {
        let rest = code.strip_prefix(self.prefix.as_str())?;
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        if rest.len() != SERIAL_CHARS + TAG_CHARS {
            return None;
        }
        let serial = u32::try_from(read_base32(&rest[..SERIAL_CHARS])?).ok()?;
        let tag = read_base32(&rest[SERIAL_CHARS..])?;
        (serial < count && tag == self.tag(serial)).then(|| serial)
    }
}

fn push_base32(out: &mut String, value: u64, chars: usize) {
    for i in (0..chars).rev() {
        out.push(char::from(ALPHABET[((value >> (5 * i)) & 31) as usize]));
    }
}

fn read_base32(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |acc, b| {
        let b = match b {
            b'O' => b'0',
            b'I' | b'L' => b'1',
            other => other,
        };
        let digit = ALPHABET.iter().position(|a| *a == b)?;
        Some(acc << 5 | digit as u64)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn siphash_matches_the_reference_vectors() {
        // From the SipHash paper: key 00..0f, messages 00..(n-1).
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(siphash24(k0, k1, &[]), 0x726f_db47_dd0e_0e31);
        let fifteen: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(k0, k1, &fifteen), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn generated_codes_verify_and_nothing_else_does() {
        let g = Generator::new("spr", "a long campaign secret");
        let code = g.code(41);
        assert!(code.starts_with("SPR-"));
        assert_eq!(code.len(), 4 + 12);
        assert_eq!(g.serial_of(&code, 100), Some(41));
        assert_eq!(g.serial_of(&code, 41), None, "serial beyond count");
        let other = Generator::new("spr", "another secret");
        assert_eq!(other.serial_of(&code, 100), None);
        let mut tampered = code.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'2' { b'3' } else { b'2' };
        assert_eq!(
            g.serial_of(&String::from_utf8(tampered).unwrap(), 100),
            None
        );
        // Crockford reading: O for 0, I and L for 1, dash optional.
        let lenient = code.replace('0', "O").replacen("SPR-", "SPR", 1);
        assert_eq!(g.serial_of(&lenient, 100), Some(41));
    }

    #[test]
    fn codes_match_the_generator_script() {
        // plugins/coupons/generate-codes.py --prefix SPR --secret 'a long campaign secret' --count 3
        let g = Generator::new("SPR", "a long campaign secret");
        let codes: Vec<String> = (0..3).map(|s| g.code(s)).collect();
        assert_eq!(codes, SCRIPT_CODES);
    }

    const SCRIPT_CODES: [&str; 3] = ["SPR-00009EE1SNG4", "SPR-0001521AEWCN", "SPR-0002ZA87H20E"];
}
