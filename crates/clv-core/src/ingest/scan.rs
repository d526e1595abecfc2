//! Records from a byte stream: read in blocks of whole records, cut into
//! pieces that can be parsed on separate threads.
//!
//! The quoting rules are csv-core's (the state machine under the `csv`
//! crate: RFC 4180, `\n`, `\r\n` or `\r` line ends, blank lines skipped).
//! A block with no `"` and no lone `\r` cannot hold a quoted field or an odd
//! line end, so each `\n` ends a record and each delimiter ends a field: such
//! "plain" blocks — nearly every export — are split in one pass that finds
//! delimiters and line ends eight bytes at a time, faster than csv-core's
//! byte-by-byte state machine. Any other block goes through csv-core itself.
//!
//! Line numbers are physical lines (header = 1): a record's line is the
//! number of `\n` before its first byte, plus one.

use super::IngestError;
use std::io::Read;

/// Bytes read per block (grown when one record is longer).
pub const BLOCK_BYTES: usize = 8 << 20;
/// Bytes read for the first block: two pieces, so that both threads start.
const FIRST_BLOCK_BYTES: usize = 2 * PIECE_BYTES;
/// A record may not be longer than this: past it, the file almost surely
/// has a quote that is never closed, and reading on would hold the rest of
/// the file in memory as one field.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Target size of the pieces a block is cut into. Fixed, not per thread
/// count, so that sums over pieces have the same digits on every machine.
pub const PIECE_BYTES: usize = 1 << 20;

/// Whole records, starting at physical line `first_line`.
#[derive(Debug, Clone, Copy)]
pub struct Piece<'a> {
    pub bytes: &'a [u8],
    pub first_line: u64,
    /// Line ends in `bytes`: records are at most one more (unless lines
    /// end in a lone `\r`, which csv-core also reads as a line end).
    pub line_ends: u64,
    plain: bool,
    delimiter: u8,
}

/// A block of whole records and where to cut it.
pub struct Block {
    bytes: Vec<u8>,
    plain: bool,
    delimiter: u8,
    /// Record boundaries, from 0 to `bytes.len()`.
    cuts: Vec<usize>,
    /// The physical line each piece (between two cuts) starts on, and the
    /// line after the block.
    first_lines: Vec<u64>,
}

impl Block {
    pub fn pieces(&self) -> Vec<Piece<'_>> {
        self.cuts
            .windows(2)
            .zip(self.first_lines.windows(2))
            .map(|(w, lines)| Piece {
                bytes: &self.bytes[w[0]..w[1]],
                first_line: lines[0],
                line_ends: lines[1] - lines[0],
                plain: self.plain,
                delimiter: self.delimiter,
            })
            .collect()
    }
}

/// Lines before the first byte that is not a line end.
fn leading_blank_lines(bytes: &[u8]) -> u64 {
    let start = bytes.iter().position(|&b| b != b'\n' && b != b'\r').unwrap_or(bytes.len());
    newlines(&bytes[..start])
}

/// Physical line ends in `bytes`.
pub(super) fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// No quote and every `\r` followed by `\n`.
fn is_plain(bytes: &[u8]) -> bool {
    // One pass for both bytes (this runs on the reading thread, per block).
    memchr::memchr2_iter(b'"', b'\r', bytes).all(|i| bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n'))
}

/// The stream after the header, a block at a time.
pub struct Blocks<R> {
    inner: R,
    carry: Vec<u8>,
    /// A block was read (the first is smaller).
    started: bool,
    next_line: u64,
    block_bytes: usize,
    piece_bytes: usize,
    max_record: usize,
    delimiter: u8,
    eof: bool,
    /// Column names, for errors that point at a field.
    headers: Vec<String>,
    /// Used blocks' buffers (two: one parsed while the next is read),
    /// refilled instead of allocating (and faulting in) 8 MB of fresh memory
    /// per block.
    spare: Vec<Vec<u8>>,
}

impl<R: Read> Blocks<R> {
    /// `start`: bytes already read past the header, which ends on line `first_line − 1`.
    pub fn new(inner: R, start: Vec<u8>, first_line: u64, delimiter: u8) -> Blocks<R> {
        Blocks {
            inner,
            carry: start,
            started: false,
            next_line: first_line,
            block_bytes: BLOCK_BYTES,
            piece_bytes: PIECE_BYTES,
            max_record: MAX_RECORD_BYTES,
            delimiter,
            eof: false,
            headers: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Name the columns in errors that point at a field.
    pub fn with_headers(mut self, headers: Vec<String>) -> Self {
        self.headers = headers;
        self
    }

    /// Hand back a block once its pieces are parsed.
    pub fn recycle(&mut self, block: Block) {
        self.spare.push(block.bytes);
    }

    /// Other block and piece sizes (tests cut records every few bytes).
    pub fn with_sizes(mut self, block_bytes: usize, piece_bytes: usize) -> Self {
        self.block_bytes = block_bytes.max(1);
        self.piece_bytes = piece_bytes.max(1);
        self
    }

    /// Another limit on one record's length (tests).
    #[cfg(test)]
    pub fn with_max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes;
        self
    }

    /// The next block of whole records; `None` at the end of the stream.
    pub fn next_block(&mut self) -> Result<Option<Block>, IngestError> {
        // The first block is small: nothing is parsed until it is read.
        let mut want = if self.started { self.block_bytes } else { self.block_bytes.min(FIRST_BLOCK_BYTES) };
        self.started = true;
        loop {
            let mut buf = self.spare.pop().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(&self.carry);
            if !self.eof && buf.len() < want {
                let missing = want - buf.len();
                buf.reserve(missing);
                let got = (&mut self.inner).take(missing as u64).read_to_end(&mut buf)?;
                self.eof = got < missing;
            }
            if buf.is_empty() {
                return Ok(None);
            }
            // Only the whole lines decide: a quote or a `\r` in the partial
            // record carried to the next block says nothing about these.
            let lines_end = plain_record_end(&buf, self.eof).unwrap_or(0);
            let plain = lines_end > 0 && is_plain(&buf[..lines_end]);
            let ends = if plain { vec![lines_end] } else { quoted_record_ends(&buf, self.delimiter, self.eof) };
            if !plain && self.eof {
                self.refuse_unclosed_quote(&buf, &ends)?;
            }
            let Some(&end) = ends.last() else {
                // One record longer than the block: read more, up to a point.
                if buf.len() >= self.max_record {
                    return Err(IngestError::Csv {
                        line: self.next_line + leading_blank_lines(&buf),
                        message: format!(
                            "a record starting here runs past {} MB without ending: most likely a quote (\") \
                             that is never closed. Fix that line (a quote inside an unquoted value must be \
                             doubled and the value quoted)",
                            self.max_record >> 20
                        ),
                    });
                }
                self.carry = buf;
                want = want.saturating_mul(2);
                continue;
            };
            self.carry.clear();
            self.carry.extend_from_slice(&buf[end..]);
            buf.truncate(end);
            let cuts = if plain { plain_cuts(&buf, self.piece_bytes) } else { cuts_at_ends(&ends, self.piece_bytes) };
            // One count of line ends per piece gives both where each piece
            // starts and where the next block does.
            let mut first_lines: Vec<u64> = cuts
                .windows(2)
                .map(|w| {
                    let first = self.next_line;
                    self.next_line += newlines(&buf[w[0]..w[1]]);
                    first
                })
                .collect();
            first_lines.push(self.next_line);
            return Ok(Some(Block { plain, delimiter: self.delimiter, cuts, first_lines, bytes: buf }));
        }
    }
}

impl<R> Blocks<R> {
    /// The last record of the file must not end inside a quote: csv-core
    /// closes such a field at the end of the input, so every line after the
    /// quote would silently become one field (a stray `"` in a notes column
    /// would swallow the rest of the file). `buf` ends at EOF; `ends` are
    /// its record ends.
    fn refuse_unclosed_quote(&self, buf: &[u8], ends: &[usize]) -> Result<(), IngestError> {
        let start = ends.len().checked_sub(2).map_or(0, |k| ends[k]);
        let Some((column, at)) = unclosed_quote(&buf[start..], self.delimiter) else {
            return Ok(());
        };
        let line = self.next_line + newlines(&buf[..start + at]);
        let trailing = buf.len() - buf.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i + 1);
        let last_line = (self.next_line + newlines(&buf[..buf.len() - trailing])).max(line);
        let name = self.headers.get(column).map_or(String::new(), |h| format!(" ({h:?})"));
        Err(IngestError::UnclosedQuote { line, column: format!("{}{name}", column + 1), last_line })
    }
}

/// Where a record (from its first byte to the end of the file) opens a
/// quote it never closes: (field index, offset of the quote). A record
/// that ends normally would end at one more line end; one inside a quote
/// takes it into the field.
fn unclosed_quote(record: &[u8], delimiter: u8) -> Option<(usize, usize)> {
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = vec![0u8; 1 << 16];
    // csv-core skips line ends before a record; the first field starts after them.
    // Only line ends (the `\n` of a last `\r\n`, blank lines): no record.
    let mut pos = record.iter().position(|&b| b != b'\n' && b != b'\r')?;
    let (mut field, mut field_start) = (0, pos);
    let mut fed_end = false;
    loop {
        let input = if pos < record.len() {
            &record[pos..]
        } else if fed_end {
            &[][..]
        } else {
            &b"\n"[..]
        };
        let (res, nin, _) = rdr.read_field(input, &mut out);
        if pos < record.len() {
            pos += nin;
        } else if std::mem::replace(&mut fed_end, true) {
            return None; // end of input after a closed record
        }
        match res {
            csv_core::ReadFieldResult::Field { record_end: true } | csv_core::ReadFieldResult::End => return None,
            csv_core::ReadFieldResult::Field { record_end: false } => {
                field += 1;
                field_start = pos;
            }
            csv_core::ReadFieldResult::InputEmpty if fed_end => return Some((field, field_start)),
            // A long field: only where it ends matters.
            csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
        }
    }
}

/// Where a plain buffer's whole records end: after its last `\n`, or at
/// its end at EOF.
fn plain_record_end(buf: &[u8], eof: bool) -> Option<usize> {
    if eof {
        return Some(buf.len());
    }
    memchr::memrchr(b'\n', buf).map(|i| i + 1)
}

/// Every record end csv-core finds in `buf` (the final partial record
/// excluded unless at EOF).
fn quoted_record_ends(buf: &[u8], delimiter: u8, eof: bool) -> Vec<usize> {
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut out, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 64]);
    let (mut pos, mut found) = (0usize, Vec::new());
    loop {
        let (res, nin, _, _) = rdr.read_record(&buf[pos..], &mut out, &mut ends);
        pos += nin;
        match res {
            csv_core::ReadRecordResult::Record => found.push(pos),
            csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::InputEmpty if pos == buf.len() && !eof => break,
            // Outputs are scratch: only positions matter here.
            _ => {}
        }
    }
    if eof && found.last() != Some(&buf.len()) {
        // Trailing blank lines after the last record belong to the block.
        found.push(buf.len());
    }
    found
}

/// In a plain block every `\n` ends a record: cut after the first one
/// past every `piece` bytes.
fn plain_cuts(bytes: &[u8], piece: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    let mut target = piece;
    while target < bytes.len() {
        match memchr::memchr(b'\n', &bytes[target - 1..]) {
            Some(i) if target + i < bytes.len() => cuts.push(target + i),
            _ => break,
        }
        target = cuts[cuts.len() - 1] + piece;
    }
    cuts.push(bytes.len());
    cuts
}

/// The record ends closest past every `piece` bytes.
fn cuts_at_ends(ends: &[usize], piece: usize) -> Vec<usize> {
    let end = *ends.last().expect("non-empty");
    let mut cuts = vec![0];
    for &e in ends {
        if e >= cuts[cuts.len() - 1] + piece && e < end {
            cuts.push(e);
        }
    }
    cuts.push(end);
    cuts
}

/// One record's fields, as byte ranges into `bytes`.
pub struct Record<'a> {
    pub line: u64,
    /// Line breaks inside its quoted fields: the record covers lines
    /// `line ..= line + breaks` of the file.
    pub breaks: u64,
    /// From a plain block: the fields are the row's bytes between delimiters.
    plain: bool,
    bytes: &'a [u8],
    bounds: &'a [(usize, usize)],
}

impl<'a> Record<'a> {
    /// Number of fields.
    pub fn width(&self) -> usize {
        self.bounds.len()
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.bounds.get(i).map(|&(s, e)| &self.bytes[s..e])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.bounds.iter().map(|&(s, e)| &self.bytes[s..e])
    }

    /// 64-bit fingerprint of the row's fields (xxh3: the same on every
    /// platform). It hashes the fields joined by the delimiter — for a plain
    /// row, its bytes as they are — so a row reads the same whether its
    /// block was plain or quoted; when a field itself holds the delimiter
    /// (quoted), the field lengths are mixed in so `"a,b",c` ≠ `a,"b,c"`.
    pub fn fingerprint(&self, delimiter: u8, scratch: &mut Vec<u8>) -> u64 {
        let (first, last) = match (self.bounds.first(), self.bounds.last()) {
            (Some(f), Some(l)) => (f.0, l.1),
            _ => return 0,
        };
        if self.plain {
            return xxhash_rust::xxh3::xxh3_64(&self.bytes[first..last]);
        }
        scratch.clear();
        let mut split = false;
        for (k, f) in self.iter().enumerate() {
            if k > 0 {
                scratch.push(delimiter);
            }
            split |= memchr::memchr(delimiter, f).is_some();
            scratch.extend_from_slice(f);
        }
        let h = xxhash_rust::xxh3::xxh3_64(scratch);
        if !split {
            return h;
        }
        scratch.clear();
        for f in self.iter() {
            scratch.extend_from_slice(&(f.len() as u32).to_le_bytes());
        }
        h ^ xxhash_rust::xxh3::xxh3_64(scratch).rotate_left(1)
    }
}

/// Call `f` for each record of `piece`, in order.
pub fn for_each_record(piece: Piece<'_>, mut f: impl FnMut(&Record<'_>)) {
    if piece.plain {
        plain_records(piece, &mut f)
    } else {
        quoted_records(piece, &mut f)
    }
}

/// Bytes equal to `b` in the word `w`: the high bit of each such byte set.
/// Exact per byte (no borrow crosses bytes), so positions can be read off.
#[inline(always)]
fn bytes_equal(w: u64, b: u8) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = w ^ (u64::from(b) * 0x0101_0101_0101_0101);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// A plain piece's records. Delimiters and line ends are found eight bytes
/// at a time (SWAR bit masks) in one pass over the piece: a row is ~25
/// bytes, so a search call per field would cost more than the search.
fn plain_records<F: FnMut(&Record<'_>)>(piece: Piece<'_>, f: &mut F) {
    let (bytes, delimiter) = (piece.bytes, piece.delimiter);
    let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(16);
    let (mut field, mut line) = (0usize, piece.first_line);
    let mut at = |p: usize, bounds: &mut Vec<(usize, usize)>, field: &mut usize, line: &mut u64| {
        if bytes[p] == delimiter {
            bounds.push((*field, p));
            *field = p + 1;
            return;
        }
        let end = if p > *field && bytes[p - 1] == b'\r' { p - 1 } else { p };
        if !(bounds.is_empty() && end == *field) {
            bounds.push((*field, end));
            f(&Record { line: *line, breaks: 0, plain: true, bytes, bounds });
        }
        bounds.clear();
        *field = p + 1;
        *line += 1;
    };
    let words = bytes.chunks_exact(8);
    let tail = words.remainder().len();
    for (k, w) in words.enumerate() {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        let mut hits = bytes_equal(w, b'\n') | bytes_equal(w, delimiter);
        while hits != 0 {
            at(k * 8 + (hits.trailing_zeros() / 8) as usize, &mut bounds, &mut field, &mut line);
            hits &= hits - 1;
        }
    }
    let tail_start = bytes.len() - tail;
    for (i, &b) in bytes[tail_start..].iter().enumerate() {
        if b == b'\n' || b == delimiter {
            at(tail_start + i, &mut bounds, &mut field, &mut line);
        }
    }
    // A last record without a line end.
    if field < bytes.len() || !bounds.is_empty() {
        let end = if bytes.ends_with(b"\r") && bytes.len() > field { bytes.len() - 1 } else { bytes.len() };
        if !(bounds.is_empty() && end == field) {
            bounds.push((field, end));
            f(&Record { line, breaks: 0, plain: true, bytes, bounds: &bounds });
        }
    }
}

fn quoted_records<F: FnMut(&Record<'_>)>(piece: Piece<'_>, f: &mut F) {
    let bytes = piece.bytes;
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(piece.delimiter).build();
    let (mut out, mut ends) = (vec![0u8; 4096], vec![0usize; 64]);
    let mut bounds = Vec::with_capacity(16);
    let (mut pos, mut line) = (0usize, piece.first_line);
    // csv-core drops a UTF-8 BOM on its first read; here it can only be
    // part of a user's field (the file's own BOM went with the header).
    // Two bytes are too few to strip, and after them it never strips again.
    let mut first_read = true;
    loop {
        // Blank lines before the record are skipped by csv-core too; count
        // them so the record gets the line its first byte is on.
        while pos < bytes.len() && (bytes[pos] == b'\n' || bytes[pos] == b'\r') {
            line += u64::from(bytes[pos] == b'\n');
            pos += 1;
        }
        let (start, start_line) = (pos, line);
        let (mut outlen, mut endlen) = (0, 0);
        let done = loop {
            let bom = std::mem::take(&mut first_read) && bytes[pos..].starts_with(b"\xEF\xBB\xBF");
            let input = if bom { &bytes[pos..pos + 2] } else { &bytes[pos..] };
            let (res, nin, nout, nend) = rdr.read_record(input, &mut out[outlen..], &mut ends[endlen..]);
            pos += nin;
            outlen += nout;
            endlen += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => continue,
                csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                csv_core::ReadRecordResult::Record => break false,
                csv_core::ReadRecordResult::End => break true,
            }
        };
        if done {
            return;
        }
        line += newlines(&bytes[start..pos]);
        bounds.clear();
        let mut s = 0;
        for &e in &ends[..endlen] {
            bounds.push((s, e));
            s = e;
        }
        let breaks = newlines(&out[..outlen]);
        f(&Record { line: start_line, breaks, plain: false, bytes: &out[..outlen], bounds: &bounds });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_records(text: &[u8], block: usize, piece: usize) -> Vec<(u64, Vec<String>, u64)> {
        let mut blocks = Blocks::new(text, Vec::new(), 1, b',').with_sizes(block, piece);
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        while let Some(b) = blocks.next_block().unwrap() {
            for p in b.pieces() {
                for_each_record(p, |r| {
                    out.push((
                        r.line,
                        r.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(),
                        r.fingerprint(b',', &mut scratch),
                    ))
                });
            }
        }
        out
    }

    fn csv_crate(text: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text)
            .byte_records()
            .map(|r| r.unwrap().iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect())
            .collect()
    }

    const MESSY: &[u8] =
        b"a,1,x\r\n\r\nb,2,\"multi\nline, with comma\"\r\n\n\"c\",3,\"q\"\"uote\"\nd,4,5\re,5,6\nf,6,7";

    #[test]
    fn same_records_as_the_csv_crate_at_any_block_size() {
        let want = csv_crate(MESSY);
        for block in [1, 2, 3, 5, 8, 13, 64, 1 << 20] {
            for piece in [1, 4, 1 << 20] {
                let got = all_records(MESSY, block, piece);
                let fields: Vec<Vec<String>> = got.iter().map(|r| r.1.clone()).collect();
                assert_eq!(fields, want, "block {block} piece {piece}");
                let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
                // d and e share line 6: a lone \r ends a record but not a line.
                assert_eq!(lines, vec![1, 3, 6, 7, 7, 8], "block {block} piece {piece}");
            }
        }
    }

    #[test]
    fn plain_text_gets_plain_blocks_and_the_same_answers() {
        let text = b"a,1\nb,2\r\n\nc,3\n\nd,4";
        assert!(is_plain(text));
        assert!(!is_plain(b"a,1\rb,2"));
        assert!(!is_plain(b"a,\"1\""));
        for block in [1, 3, 7, 1 << 20] {
            for piece in [1, 5, 1 << 20] {
                let got = all_records(text, block, piece);
                let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
                assert_eq!(lines, vec![1, 2, 4, 6], "block {block} piece {piece}");
                assert_eq!(got.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), csv_crate(text));
            }
        }
    }

    #[test]
    fn a_bom_inside_the_data_is_kept() {
        // The file's BOM is stripped with the header; one starting a data
        // record is part of the user's field, in quoted and plain blocks.
        for text in [
            &b"\xEF\xBB\xBFa,\"1\"\nb,2\n"[..],
            &b"\xEF\xBB\xBFa,1\nb,2\n"[..],
            &b"\r\n\xEF\xBB\xBFa,\"1\"\r\nb,2\r\n"[..], // after a CRLF header: the piece starts with \n
            &b"\n\n\xEF\xBB\xBFa,\"1\"\nb,2\n"[..],
        ] {
            let got = all_records(text, 1 << 20, 1 << 20);
            assert_eq!(got[0].1, vec!["\u{feff}a".to_string(), "1".to_string()]);
            assert_eq!(got.len(), 2);
        }
    }

    #[test]
    fn a_quote_never_closed_is_an_error_naming_its_line() {
        // Line 1 is the header, 2 a record, 3 blank, 4 opens a quote that never closes.
        let text = b"a,1\n\nb,\"2\nc,3\nd,4\n";
        let mut blocks = Blocks::new(&text[..], Vec::new(), 2, b',').with_sizes(4, 4).with_max_record(8);
        let err = loop {
            match blocks.next_block() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("read to the end without an error"),
                Err(e) => break e,
            }
        };
        match err {
            IngestError::Csv { line, message } => {
                assert_eq!(line, 4);
                assert!(message.contains("never closed"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
        // With room for it, csv-core would read lines 4–6 as one field:
        // that is refused too, at any block size, naming where the quote opened.
        for (block, piece) in [(4, 4), (1, 1), (1 << 20, 1 << 20)] {
            match first_error(text, block, piece) {
                Some(IngestError::UnclosedQuote { line, column, last_line }) => {
                    assert_eq!((line, column.as_str(), last_line), (4, "2", 6), "block {block}")
                }
                other => panic!("block {block}: {other:?}"),
            }
        }
    }

    fn first_error(text: &[u8], block: usize, piece: usize) -> Option<IngestError> {
        let mut blocks = Blocks::new(text, Vec::new(), 2, b',').with_sizes(block, piece);
        loop {
            match blocks.next_block() {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(e) => return Some(e),
            }
        }
    }

    #[test]
    fn only_a_quote_open_at_the_end_of_the_file_is_refused() {
        let unclosed: [(&[u8], u64, &str, u64); 3] = [
            (b"a,1\nb,\"2", 3, "2", 3),               // last line, no line end
            (b"a,1\nb,\"2\"\"\r\n\r\n", 3, "2", 3),   // an escaped quote is not a closing one
            (b"a,\"x\ny\",1\n\"b,2\nc,3", 4, "1", 5), // a closed multi-line field before it
        ];
        for (text, line, column, last) in unclosed {
            for (block, piece) in [(1, 1), (3, 2), (1 << 20, 1 << 20)] {
                match first_error(text, block, piece) {
                    Some(IngestError::UnclosedQuote { line: l, column: c, last_line }) => {
                        assert_eq!((l, c.as_str(), last_line), (line, column, last), "{text:?} block {block}")
                    }
                    other => panic!("{text:?} block {block}: {other:?}"),
                }
            }
        }
        for closed in [&b"a,\"multi\nline\""[..], b"a,\"x\"\"\"\n", b"a,\"\"\n\n", b"a,b\"c\n"] {
            assert!(first_error(closed, 3, 2).is_none(), "{closed:?}");
        }
    }

    #[test]
    fn byte_masks_are_exact() {
        for w in [0u64, u64::MAX, 0x0A2C_0A2C_8080_0A0B, 0x2C00_0000_0000_000A, 0x0B0A_090A_2D2C_2B0A] {
            for b in [b'\n', b',', 0x80, 0] {
                let want: u64 = (0..8).filter(|&i| (w >> (8 * i)) as u8 == b).map(|i| 0x80u64 << (8 * i)).sum();
                assert_eq!(bytes_equal(w, b), want, "{w:#x} {b:#x}");
            }
        }
    }

    #[test]
    fn fingerprints_agree_across_block_kinds_and_separate_look_alikes() {
        let plain = all_records(b"u,2024-01-01,5,x\n", 1 << 20, 1 << 20);
        let quoted = all_records(b"\"u\",2024-01-01,5,\"x\"\n", 1 << 20, 1 << 20);
        assert_eq!(plain[0].2, quoted[0].2);
        let a = all_records(b"u,d,\"5,x\",y\n", 1 << 20, 1 << 20);
        let b = all_records(b"u,d,5,\"x,y\"\n", 1 << 20, 1 << 20);
        assert_ne!(a[0].2, b[0].2);
        let c = all_records(b"u,d,5,xy\n", 1 << 20, 1 << 20);
        assert_ne!(plain[0].2, c[0].2);
    }
}
