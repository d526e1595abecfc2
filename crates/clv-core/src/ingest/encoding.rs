//! Exports that are not UTF-8: UTF-16 (Excel's "Unicode text") and
//! Windows-1252/Latin-1 (Excel's "CSV" on Windows). Detected from the first
//! bytes and decoded to UTF-8 while streaming, in front of the reader, so
//! everything after (and the UTF-8 fast path) sees UTF-8 only.

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::io::{self, Read};

/// Bytes looked at for the NUL pattern of UTF-16 without a byte-order mark.
const NUL_WINDOW: usize = 64 << 10;

/// The encoding of a file that is not UTF-8, and what showed it; `None`
/// for UTF-8 (or ASCII).
pub fn detect(sample: &[u8]) -> Option<(&'static Encoding, &'static str)> {
    if let Some((enc, _)) = Encoding::for_bom(sample) {
        return (enc != encoding_rs::UTF_8).then_some((enc, "byte-order mark"));
    }
    // Text in UTF-16 has a NUL in every other byte (ASCII characters):
    // odd positions for little-endian, even for big-endian.
    let head = &sample[..sample.len().min(NUL_WINDOW)];
    let nul_at = |parity: usize| head.iter().skip(parity).step_by(2).filter(|&&b| b == 0).count();
    let (even, odd) = (nul_at(0), nul_at(1));
    if odd * 4 > head.len() && even * 8 <= odd {
        return Some((UTF_16LE, "NUL bytes in every other position"));
    }
    if even * 4 > head.len() && odd * 8 <= even {
        return Some((UTF_16BE, "NUL bytes in every other position"));
    }
    // More invalid UTF-8 than valid non-ASCII characters: a legacy
    // single-byte encoding, not a UTF-8 file with a few broken rows (those
    // are rejected row by row). A sequence cut by the end of the sample is
    // not counted.
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut chunks = sample.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty() && chunks.peek().is_some());
    }
    (invalid > valid).then_some((WINDOWS_1252, "not valid UTF-8"))
}

/// An `io::Read` of UTF-8 text decoded from `inner` in `encoding`
/// (malformed sequences become U+FFFD, as every decoder does).
pub struct Decoding<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    /// Undecoded bytes are `input[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    out: Vec<u8>,
    /// Decoded bytes not yet handed out are `out[given..]`.
    given: usize,
    done: bool,
}

const BUFFER: usize = 64 << 10;

impl<R: Read> Decoding<R> {
    pub fn new(inner: R, encoding: &'static Encoding) -> Decoding<R> {
        Decoding {
            inner,
            // The byte-order mark is not text.
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; BUFFER],
            start: 0,
            end: 0,
            eof: false,
            out: Vec::with_capacity(BUFFER),
            given: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.given < self.out.len() {
                let n = buf.len().min(self.out.len() - self.given);
                buf[..n].copy_from_slice(&self.out[self.given..self.given + n]);
                self.given += n;
                return Ok(n);
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.end = self.inner.read(&mut self.input)?;
                self.start = 0;
                self.eof = self.end == 0;
            }
            self.out.resize(BUFFER, 0);
            let (result, read, written, _) =
                self.decoder.decode_to_utf8(&self.input[self.start..self.end], &mut self.out, self.eof);
            self.start += read;
            self.out.truncate(written);
            self.given = 0;
            self.done = self.eof && result == CoderResult::InputEmpty;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Kunde;Umsatz\nMüller;12,50\nJosé €;7\n";

    fn decoded(bytes: &[u8], chunk: usize) -> String {
        let (enc, _) = detect(bytes).expect("not UTF-8");
        // A reader handing out a few bytes at a time: sequences cut anywhere.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = String::new();
        Decoding::new(Trickle(bytes, chunk), enc).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn utf16_and_windows_1252_are_found_and_decoded() {
        let le: Vec<u8> = TEXT.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = TEXT.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let (cp1252, _, _) = WINDOWS_1252.encode(TEXT);
        let cases: [(Vec<u8>, &str, &str); 5] = [
            ([&[0xFF, 0xFE][..], &le].concat(), "UTF-16LE", "byte-order mark"),
            ([&[0xFE, 0xFF][..], &be].concat(), "UTF-16BE", "byte-order mark"),
            (le, "UTF-16LE", "NUL bytes in every other position"),
            (be, "UTF-16BE", "NUL bytes in every other position"),
            (cp1252.into_owned(), "windows-1252", "not valid UTF-8"),
        ];
        for (bytes, name, why) in cases {
            let (enc, how) = detect(&bytes).unwrap();
            assert_eq!((enc.name(), how), (name, why));
            for chunk in [1, 3, 1 << 20] {
                assert_eq!(decoded(&bytes, chunk), TEXT, "{name} in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn utf8_stays_utf8_even_with_a_broken_row() {
        assert!(detect(TEXT.as_bytes()).is_none());
        assert!(detect(b"\xEF\xBB\xBFa,b\n").is_none());
        // A few broken bytes among valid characters: rows to reject, not an encoding.
        let mut mixed = "Müller,José,€\n".as_bytes().to_vec();
        mixed.extend_from_slice(b"\xff\xfe,1\n");
        assert!(detect(&mixed).is_none());
        // A multi-byte character cut by the end of the sample is no evidence.
        assert!(detect(&"ab é".as_bytes()[..4]).is_none());
    }
}
