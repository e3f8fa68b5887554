//! The one place that knows how values are encoded: bincode 1.3 with explicit options and a size
//! limit, behind a format-version byte for everything persisted.

use bincode::Options;
use serde::{de::DeserializeOwned, Serialize};

/// Format version of persisted values (log entries, vote, state keys and values, snapshots).
pub const FORMAT_VERSION: u8 = 1;

/// Largest value decoded from disk or from the network (a snapshot is the largest thing).
pub const MAX_DECODE_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty value")]
    Empty,
    #[error("unsupported format version {found} (this build reads version {FORMAT_VERSION})")]
    Version { found: u8 },
    #[error("bincode: {0}")]
    Bincode(#[from] bincode::Error),
}

fn options(limit: u64) -> impl Options {
    bincode::DefaultOptions::new().with_fixint_encoding().allow_trailing_bytes().with_limit(limit)
}

/// Encode without a version byte (network bodies, keys).
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    // Serialising our own in-memory types to a Vec cannot fail: no I/O, no size limit hit
    // below MAX_DECODE_BYTES, and the model has no serde attributes bincode rejects.
    options(u64::MAX).serialize(v).unwrap_or_default()
}

/// The exact length of [`encode`]`(v)`, computed without building the bytes: how writers check
/// a command against the command cap and size the pieces they split it into.
pub fn encoded_len<T: Serialize + ?Sized>(v: &T) -> usize {
    // Cannot fail for the same reasons `encode` cannot; 0 mirrors `encode`'s empty fallback.
    options(u64::MAX).serialized_size(v).map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Decode without a version byte, bounded by `limit` bytes.
pub fn decode_limited<T: DeserializeOwned>(bytes: &[u8], limit: u64) -> Result<T, CodecError> {
    Ok(options(limit).deserialize(bytes)?)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    decode_limited(bytes, MAX_DECODE_BYTES)
}

/// Encode a persisted value: version byte, then bincode.
pub fn encode_versioned<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    out.extend_from_slice(&encode(v));
    out
}

/// Decode a persisted value, checking its version byte.
pub fn decode_versioned<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT_VERSION, rest)) => decode(rest),
        Some((&found, _)) => Err(CodecError::Version { found }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_roundtrip_and_rejects_other_versions() {
        let v = vec!["a".to_string(), "b".to_string()];
        let bytes = encode_versioned(&v);
        assert_eq!(bytes[0], FORMAT_VERSION);
        let back: Vec<String> = decode_versioned(&bytes).unwrap();
        assert_eq!(back, v);
        let mut other = bytes.clone();
        other[0] = 9;
        assert!(matches!(decode_versioned::<Vec<String>>(&other), Err(CodecError::Version { found: 9 })));
        assert!(matches!(decode_versioned::<Vec<String>>(&[]), Err(CodecError::Empty)));
    }

    #[test]
    fn encoded_len_is_the_length_of_encode() {
        let values: [Vec<String>; 3] = [vec![], vec!["a".into()], vec!["ü".repeat(100), String::new()]];
        for v in &values {
            assert_eq!(encoded_len(v), encode(v).len(), "{v:?}");
        }
        // fixint: a Vec is an 8-byte length, a String an 8-byte length plus its bytes.
        assert_eq!(encoded_len(&vec!["abc".to_string()]), 8 + 8 + 3);
    }

    #[test]
    fn size_limit_stops_hostile_length_prefix() {
        // A Vec<u8> whose length prefix claims 1 TiB.
        let mut bytes = (1u64 << 40).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        assert!(decode_limited::<Vec<u8>>(&bytes, 1024).is_err());
    }
}
