//! `std::io::Read` over a `Blob`, one `Blob.slice` at a time, so the worker
//! never holds the file's text as one string. `FileReaderSync` only exists
//! in workers: this type is for the worker side of the boundary.

use js_sys::Uint8Array;
use std::io::{self, Read};
use web_sys::{Blob, FileReaderSync};

pub struct BlobReader {
    blob: Blob,
    reader: FileReaderSync,
    pos: f64,
    size: f64,
}

impl BlobReader {
    pub fn new(blob: Blob) -> Result<BlobReader, String> {
        let reader = FileReaderSync::new().map_err(|e| format!("FileReaderSync is not available here: {e:?}"))?;
        let size = blob.size();
        Ok(BlobReader { blob, reader, pos: 0.0, size })
    }

    pub fn size(&self) -> f64 {
        self.size
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let end = (self.pos + buf.len() as f64).min(self.size);
        let js_err = |e: wasm_bindgen::JsValue| io::Error::other(format!("reading the file failed: {e:?}"));
        let slice = self.blob.slice_with_f64_and_f64(self.pos, end).map_err(js_err)?;
        let buffer = self.reader.read_as_array_buffer(&slice).map_err(js_err)?;
        let bytes = Uint8Array::new(&buffer);
        let n = bytes.length() as usize;
        bytes.copy_to(&mut buf[..n]);
        self.pos += n as f64;
        Ok(n)
    }
}
