//! Reading a `.npy` file from disk: the preamble is parsed as
//! [`parse_npy`](super::parse_npy) parses it, and the elements are decoded
//! from the file a block at a time, so the file's bytes are never all in
//! memory beside the array made of them (W3's 188 MB of float32 features
//! are held once, not twice).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::Features;
use super::error::DataError;
use super::npy::{Array, Decoder, parse_head, parse_npy};

/// Bytes read from the file at a time.
const BLOCK_BYTES: usize = 1 << 16;

/// Reads a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Array, DataError> {
    let path = path.as_ref();
    let cannot = |e: io::Error| DataError::read(path, e);
    let mut file = File::open(path).map_err(cannot)?;
    let metadata = file.metadata().map_err(cannot)?;
    if !metadata.is_file() {
        // A pipe or a device has no length to check the header against
        // before reading: read it whole.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(cannot)?;
        return parse_npy(&bytes, path);
    }
    let preamble = read_preamble(&mut file).map_err(cannot)?;
    let head = parse_head(&preamble, path)?;
    let found =
        usize::try_from(metadata.len()).map_or(usize::MAX, |n| n.saturating_sub(head.data_start));
    let count = head.check_size(found, path)?;
    let mut reader = io::BufReader::with_capacity(BLOCK_BYTES, file);
    let data = head
        .kind
        .read
        .read_from(&mut reader, count, head.kind.size)
        .map_err(cannot)?;
    Ok(head.into_array(data))
}

/// The file's bytes up to the end of its header: the magic string and
/// version, the header's length and the header. A file that ends sooner
/// is read whole, so that parsing says where it ended.
fn read_preamble(file: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut more = |bytes: &mut Vec<u8>, n: usize| file.take(n as u64).read_to_end(bytes);
    more(&mut bytes, 8)?;
    // Version 1.0 gives the header's length in 2 bytes, later ones in 4.
    let length_bytes = if bytes.get(6) == Some(&1) { 2 } else { 4 };
    more(&mut bytes, length_bytes)?;
    let header_len = match bytes.get(8..) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]) as usize,
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => return Ok(bytes),
    };
    more(&mut bytes, header_len)?;
    Ok(bytes)
}

impl Decoder {
    /// `count` elements of `size` bytes each from `reader`, decoded a
    /// block at a time.
    pub(crate) fn read_from(
        self,
        reader: &mut impl Read,
        count: usize,
        size: usize,
    ) -> io::Result<Features> {
        Ok(match self {
            Decoder::F32(read) => Features::F32(read_elements(reader, count, size, read)?),
            Decoder::F64(read) => Features::F64(read_elements(reader, count, size, read)?),
        })
    }
}

/// `count` elements of `size` bytes each from `reader`, each decoded by
/// `read`.
fn read_elements<T>(
    reader: &mut impl Read,
    count: usize,
    size: usize,
    read: fn(&[u8]) -> T,
) -> io::Result<Vec<T>> {
    let mut values = Vec::with_capacity(count);
    let mut block = vec![0; BLOCK_BYTES / size * size];
    let mut left = count;
    while left > 0 {
        let n = left.min(block.len() / size);
        let bytes = &mut block[..n * size];
        reader.read_exact(bytes)?;
        values.extend(bytes.chunks_exact(size).map(read));
        left -= n;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::super::npy::npy_bytes;
    use super::*;

    #[test]
    fn reading_a_file_in_blocks_gives_what_parsing_its_bytes_gives() {
        let dir = std::env::temp_dir().join(format!("nabla-npy-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Two blocks of float32 elements and part of a third.
        let values: Vec<f32> = (0..3 * 10_925).map(|i| i as f32 * 0.25).collect();
        let f4: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f8: Vec<u8> = values
            .iter()
            .flat_map(|&v| f64::from(v).to_le_bytes())
            .collect();
        let n = values.len();
        let files = [
            ("f4.npy", npy_bytes("<f4", false, &[n / 3, 3], &f4, 1)),
            ("f8.npy", npy_bytes("<f8", false, &[n], &f8, 2)),
            ("u1.npy", npy_bytes("|u1", false, &[3], &[1, 2, 3], 1)),
            ("empty.npy", npy_bytes("<f4", false, &[0, 3], &[], 1)),
            ("short.npy", npy_bytes("<f4", false, &[n], &f4[..8], 1)),
            ("long.npy", npy_bytes("<f4", false, &[1], &f4[..8], 1)),
            (
                "cut.npy",
                npy_bytes("<f4", false, &[n], &f4, 1)[..20].to_vec(),
            ),
            ("magic.npy", b"PK\x03\x04zip".to_vec()),
            ("nothing.npy", Vec::new()),
        ];
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            let read = read_npy(&path).map_err(|e| e.to_string());
            let parsed = parse_npy(&bytes, &path).map_err(|e| e.to_string());
            assert_eq!(read, parsed, "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
