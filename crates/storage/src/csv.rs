//! Reading what spreadsheets export: the bytes are decoded with `encoding_rs`
//! (a BOM for UTF-8 or UTF-16 wins; else an encoding chosen by the caller;
//! else UTF-8 when the bytes are valid UTF-8, UTF-16 without BOM when every
//! other byte is zero, Windows-1252 otherwise), the delimiter (comma,
//! semicolon, tab or pipe) is detected from the header line, and records are
//! read with the `csv` crate (quoted fields with delimiters, doubled quotes
//! and newlines inside, CRLF or LF, blank lines skipped).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// Decoded text and the encoding it was read with.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The file as text, without BOM.
    pub text: String,
    /// Encoding used.
    pub encoding: &'static Encoding,
}

/// Decodes `bytes` (see the module doc). `chosen` is an encoding label
/// (`windows-1252`, `latin1`, `utf-16le`, `utf-8`...). Errors name the
/// problem for the user.
pub(crate) fn decode(bytes: &[u8], chosen: Option<&str>) -> Result<Decoded, String> {
    let (encoding, body) = if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        (enc, &bytes[bom_len..])
    } else if let Some(label) = chosen.map(str::trim).filter(|l| !l.is_empty()) {
        let enc = Encoding::for_label(label.as_bytes())
            .ok_or_else(|| format!("unknown encoding {label:?}"))?;
        (enc, bytes)
    } else if let Some(enc) = utf16_without_bom(bytes) {
        (enc, bytes)
    } else if std::str::from_utf8(bytes).is_ok() {
        (UTF_8, bytes)
    } else {
        (WINDOWS_1252, bytes)
    };
    let text = encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or_else(|| format!("the file is not valid {}", encoding.name()))?;
    Ok(Decoded {
        text: text.into_owned(),
        encoding,
    })
}

/// UTF-16 without BOM: ASCII-heavy text has a zero in every other byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zeros_at = |parity: usize| sample.iter().skip(parity).step_by(2).filter(|b| **b == 0);
    if zeros_at(1).count() * 10 >= pairs * 9 {
        Some(UTF_16LE)
    } else if zeros_at(0).count() * 10 >= pairs * 9 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The delimiter of `text`: whichever of `,` `;` tab `|` appears most on the
/// first line outside quotes (comma when none does).
pub(crate) fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if quoted => {}
            b',' => counts[0] += 1,
            b';' => counts[1] += 1,
            b'\t' => counts[2] += 1,
            b'|' => counts[3] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t', b'|'];
    let best = (0..4).max_by_key(|&i| (counts[i], 4 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// One record of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// 1-based line where the record starts.
    pub line: usize,
    /// Field values, unquoted.
    pub fields: Vec<String>,
    /// Syntax problem found in this record, if any.
    pub error: Option<String>,
}

/// Reads every record of `text` with `delimiter`. A record whose raw text
/// has an odd number of quotes has an unterminated quoted field (the `csv`
/// crate would silently take the rest of the file into it): it is marked.
pub(crate) fn records(text: &str, delimiter: u8) -> Vec<Record> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let mut out: Vec<Record> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    // The reader's position is where the previous record's line end starts:
    // skip line ends to the record itself and count lines up to it.
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut start_of = |pos: Option<&csv::Position>| {
        let mut at = pos.map_or(0, |p| p.byte() as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        let from = counted_to.min(at);
        line += bytes[from..at].iter().filter(|b| **b == b'\n').count();
        counted_to = at;
        (at, line)
    };
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let (at, line) = start_of(record.position());
                starts.push(at);
                out.push(Record {
                    line,
                    fields: record.iter().map(str::to_string).collect(),
                    error: None,
                });
            }
            Err(e) => {
                let (at, line) = start_of(e.position());
                starts.push(at);
                out.push(Record {
                    line,
                    fields: Vec::new(),
                    error: Some(e.to_string()),
                });
            }
        }
    }
    for i in 0..out.len() {
        let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
        let raw = &bytes[starts[i].min(end)..end];
        if raw.iter().filter(|b| **b == b'"').count() % 2 == 1 {
            out[i]
                .error
                .get_or_insert_with(|| "unterminated quoted field".into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(usize, Vec<String>, bool)> {
        records(text, detect_delimiter(text))
            .into_iter()
            .map(|r| (r.line, r.fields, r.error.is_some()))
            .collect()
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_crlf_and_blank_lines() {
        assert_eq!(
            read("a,b\r\n1,2\r\n\r\n3,\n"),
            vec![
                (1, v(&["a", "b"]), false),
                (2, v(&["1", "2"]), false),
                (4, v(&["3", ""]), false)
            ]
        );
    }

    #[test]
    fn quoted_delimiters_doubled_quotes_and_newlines() {
        let r = read("phone,note\n\"+1 555\",\"a, \"\"b\"\"\nc\"\n123,x");
        assert_eq!(
            r,
            vec![
                (1, v(&["phone", "note"]), false),
                (2, v(&["+1 555", "a, \"b\"\nc"]), false),
                (4, v(&["123", "x"]), false)
            ]
        );
    }

    #[test]
    fn unterminated_quote_is_an_error_on_its_line() {
        let r = read("phone,name\n1,ok\n2,\"open\n3,x\n");
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].0, 3);
        assert!(r[2].2, "{r:?}");
        assert!(!r[1].2);
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter("a;b;c\n1,5;2;3"), b';');
        assert_eq!(detect_delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(detect_delimiter("\"x;y;z\",b\n"), b',');
        assert_eq!(detect_delimiter("a|b\n"), b'|');
        assert_eq!(detect_delimiter("phone\n1;2;3"), b',');
        assert_eq!(detect_delimiter("a,b;c\n"), b',');
    }

    #[test]
    fn encodings_are_detected() {
        let utf8 = decode("\u{feff}José".as_bytes(), None).unwrap();
        assert_eq!((utf8.text.as_str(), utf8.encoding), ("José", UTF_8));
        let plain = decode("José".as_bytes(), None).unwrap();
        assert_eq!(plain.encoding, UTF_8);
        // Windows-1252: é = 0xE9, ñ = 0xF1, € = 0x80.
        let cp = decode(b"Jos\xe9 Mu\xf1oz \x80", None).unwrap();
        assert_eq!(
            (cp.text.as_str(), cp.encoding),
            ("José Muñoz €", WINDOWS_1252)
        );
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("Añ;b".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le, None).unwrap().text, "Añ;b");
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("Añ;b".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let be = decode(&be, None).unwrap();
        assert_eq!((be.text.as_str(), be.encoding), ("Añ;b", UTF_16BE));
        let no_bom: Vec<u8> = "phone;name"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&no_bom, None).unwrap().text, "phone;name");
    }

    #[test]
    fn chosen_encoding() {
        // 0xD1 is Ñ in Latin-1 and Windows-1252; in ISO-8859-5 it is б.
        assert_eq!(decode(b"\xd1", Some("latin1")).unwrap().text, "Ñ");
        assert_eq!(decode(b"\xd1", Some("iso-8859-5")).unwrap().text, "б");
        assert!(decode(b"x", Some("klingon"))
            .unwrap_err()
            .contains("unknown"));
        assert!(decode(b"\xff\xff", Some("utf-8"))
            .unwrap_err()
            .contains("not valid UTF-8"));
    }
}
