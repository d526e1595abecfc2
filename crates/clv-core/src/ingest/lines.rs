//! Physical line numbers. The `csv` crate's own line counter skips blank
//! lines, and its record positions point at the previous record's
//! terminator; but users open the file in an editor, so line N must be the
//! N-th physical line (header = 1). A tap under the buffered reader notes
//! where each non-empty line starts and its line number; since records are
//! read in order, only starts not yet passed are kept (bounded by the
//! read-ahead, not by the file).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// (byte offset where a non-empty line starts, its 1-based line number)
type Shared = Rc<RefCell<VecDeque<(u64, u64)>>>;

pub struct Tap<R> {
    inner: R,
    offset: u64,
    newlines: u64,
    /// The previous chunk ended with `\n`: its next line starts at `offset`.
    pending: bool,
    starts: Shared,
}

pub struct LineIndex {
    starts: Shared,
    last: u64,
}

pub fn tap<R: Read>(inner: R) -> (Tap<R>, LineIndex) {
    let starts: Shared = Rc::default();
    (Tap { inner, offset: 0, newlines: 0, pending: false, starts: starts.clone() }, LineIndex { starts, last: 1 })
}

fn is_terminator(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        let mut q = self.starts.borrow_mut();
        if self.pending && n > 0 {
            self.pending = false;
            if !is_terminator(chunk[0]) {
                q.push_back((self.offset, self.newlines + 1));
            }
        }
        for i in memchr::memchr_iter(b'\n', chunk) {
            self.newlines += 1;
            match chunk.get(i + 1) {
                Some(&next) if !is_terminator(next) => q.push_back((self.offset + i as u64 + 1, self.newlines + 1)),
                Some(_) => {}
                None => self.pending = true,
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl LineIndex {
    /// The line of the first non-empty line starting at or after byte `after` (the
    /// position `csv` reports for a record). Calls must not go backwards.
    pub fn line_at(&mut self, after: u64) -> u64 {
        let mut q = self.starts.borrow_mut();
        while q.front().is_some_and(|&(start, _)| start < after) {
            q.pop_front();
        }
        if let Some(&(_, line)) = q.front() {
            self.last = line;
        }
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_non_empty_line_after_a_position() {
        // line 1 "h", line 2 empty, line 3 "a", line 4 "b"
        let text = b"h\n\r\na\r\nb";
        for chunk in [1usize, 2, 3, 64] {
            let (mut t, mut idx) = tap(&text[..]);
            let mut buf = vec![0u8; chunk];
            while t.read(&mut buf).unwrap() > 0 {}
            assert_eq!(idx.line_at(1), 3, "chunk {chunk}");
            assert_eq!(idx.line_at(6), 4, "chunk {chunk}");
        }
    }
}
