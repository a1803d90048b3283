//! A small RFC 4180 CSV reader used by the contact import: quoted fields,
//! doubled quotes, separators and newlines inside quotes, CRLF or LF line
//! ends. The separator is a comma, or a semicolon when the header line has
//! more semicolons than commas (spreadsheet exports in some locales).

/// One parsed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// 1-based line number where the record starts.
    pub line: usize,
    /// Field values, unquoted.
    pub fields: Vec<String>,
    /// Syntax problem found in this record, if any.
    pub error: Option<String>,
}

fn detect_separator(text: &str) -> char {
    let header = text.lines().next().unwrap_or("");
    let commas = header.matches(',').count();
    let semis = header.matches(';').count();
    if semis > commas {
        ';'
    } else {
        ','
    }
}

/// Parses `text` into records. Blank lines are skipped. Syntax errors are
/// attached to the record they occur in; parsing resumes at the next line.
pub(crate) fn parse(text: &str) -> Vec<Record> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sep = detect_separator(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;

    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut error: Option<String> = None;
        let mut field = String::new();
        let mut quoted_field = false;
        // Parse one record.
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    // Quoted field: read until the closing quote.
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        match c {
                            '"' if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            '"' => {
                                closed = true;
                                break;
                            }
                            '\n' => {
                                line += 1;
                                field.push('\n');
                            }
                            '\r' => {
                                if chars.peek() == Some(&'\n') {
                                    chars.next();
                                }
                                line += 1;
                                field.push('\n');
                            }
                            c => field.push(c),
                        }
                    }
                    if !closed {
                        error.get_or_insert_with(|| "unterminated quoted field".into());
                    }
                }
                Some(c) if c == sep => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('\n') => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some(c) => {
                    if quoted_field {
                        error.get_or_insert_with(|| {
                            format!("unexpected character {c:?} after closing quote")
                        });
                    } else if c == '"' {
                        error.get_or_insert_with(|| "quote inside an unquoted field".into());
                    }
                    field.push(c);
                }
            }
        }
        let blank = fields.len() == 1 && fields[0].trim().is_empty() && error.is_none();
        if !blank {
            records.push(Record {
                line: start_line,
                fields,
                error,
            });
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Vec<String>, bool)> {
        parse(text)
            .into_iter()
            .map(|r| (r.line, r.fields, r.error.is_some()))
            .collect()
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_and_crlf() {
        assert_eq!(
            fields("a,b\r\n1,2\r\n\r\n3,\n"),
            vec![
                (1, v(&["a", "b"]), false),
                (2, v(&["1", "2"]), false),
                (4, v(&["3", ""]), false)
            ]
        );
    }

    #[test]
    fn quotes_commas_newlines() {
        let r = fields("phone,note\n\"+1 555\",\"a, \"\"b\"\"\nc\"\n123,x");
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
    fn errors_and_bom_and_semicolon() {
        let r = parse("\u{feff}a;b\n\"x\"y;1\nq\"q;2\n\"open;3\n");
        assert_eq!(r[0].fields, v(&["a", "b"]));
        assert!(r[1]
            .error
            .as_deref()
            .unwrap()
            .contains("after closing quote"));
        assert!(r[2].error.as_deref().unwrap().contains("quote inside"));
        assert_eq!(r[3].line, 4);
        assert!(r[3].error.as_deref().unwrap().contains("unterminated"));
    }
}
