//! Escaping of values for DN strings (RFC 4514) and search filters (RFC 4515), and
//! reading RFC 4514 escapes back.
//!
//! Every value that the hook puts into a DN or a filter goes through this module, and
//! no other module builds escapes. Attribute names cannot be escaped in either syntax,
//! so they are validated by [`crate::names`] instead.

use std::fmt::Write;

/// Escapes `value` for use as an attribute value in an RDN (RFC 4514, section 2.4).
///
/// Besides the characters the RFC requires (`"`, `+`, `,`, `;`, `<`, `>`, `\`, a leading
/// `#` or space, a trailing space and NUL), `=` and all control characters are escaped
/// too, which the RFC allows and which keeps DNs readable in logs.
pub fn dn_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 8);
    let last = value.chars().count().saturating_sub(1);

    for (position, character) in value.chars().enumerate() {
        match character {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '#' if position == 0 => escaped.push_str("\\#"),
            ' ' if position == 0 || position == last => escaped.push_str("\\ "),
            c if c.is_control() => push_hex_escapes(&mut escaped, c),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Escapes `value` for use as an assertion value in a search filter (RFC 4515,
/// section 3): `*`, `(`, `)`, `\` and NUL, and also every other control character.
pub fn filter_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 8);
    push_filter_value(&mut escaped, value);
    escaped
}

/// Appends `value` to `out` escaped as [`filter_value`] does.
pub fn push_filter_value(out: &mut String, value: &str) {
    let plain = value
        .bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && !matches!(byte, b'*' | b'(' | b')' | b'\\'));
    if plain {
        out.push_str(value);
        return;
    }
    for character in value.chars() {
        match character {
            '*' | '(' | ')' | '\\' => push_hex_escapes(out, character),
            c if c.is_control() => push_hex_escapes(out, c),
            c => out.push(c),
        }
    }
}

/// Appends `\XX` for each UTF-8 byte of `character`.
fn push_hex_escapes(out: &mut String, character: char) {
    let mut buffer = [0u8; 4];
    for byte in character.encode_utf8(&mut buffer).bytes() {
        // Writing to a String cannot fail.
        let _ = write!(out, "\\{byte:02x}");
    }
}

/// A value that is not valid RFC 4514 string syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnescapeError {
    /// What is wrong, naming the offending characters.
    pub reason: String,
}

impl std::fmt::Display for UnescapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Reads an RFC 4514 attribute value in string form and returns the plain value.
///
/// Accepts `\` followed by a special character (`"+,;<>\ #=`) or by two hex digits,
/// where consecutive hex escapes must form valid UTF-8. Characters that the RFC wants
/// escaped but that arrive unescaped are taken literally, because submitted values
/// come from people and certificates, not from a DN encoder. For the same reason a
/// leading `#` is a literal character, not the start of a BER-encoded hex value.
pub fn read_dn_value(text: &str) -> Result<String, UnescapeError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut characters = text.char_indices().peekable();
    while let Some((index, character)) = characters.next() {
        if character != '\\' {
            let mut buffer = [0u8; 4];
            bytes.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
            continue;
        }

        match characters.next() {
            Some((_, special @ ('"' | '+' | ',' | ';' | '<' | '>' | '\\' | ' ' | '#' | '='))) => {
                bytes.push(special as u8);
            }
            Some((_, high)) if high.is_ascii_hexdigit() => {
                let low = characters
                    .next()
                    .map(|(_, c)| c)
                    .filter(char::is_ascii_hexdigit);
                let Some(low) = low else {
                    return Err(invalid_escape(text, index));
                };
                // Both digits are ASCII hex digits, so this cannot fail.
                let byte = (hex_digit(high) << 4) | hex_digit(low);
                bytes.push(byte);
            }
            _ => return Err(invalid_escape(text, index)),
        }
    }

    String::from_utf8(bytes).map_err(|_| UnescapeError {
        reason: format!(
            "the hex escapes in {} do not form valid UTF-8 text",
            crate::error::quote(text)
        ),
    })
}

fn hex_digit(digit: char) -> u8 {
    digit.to_digit(16).map_or(0, |value| value as u8)
}

fn invalid_escape(text: &str, index: usize) -> UnescapeError {
    let escape: String = text[index..].chars().take(3).collect();
    UnescapeError {
        reason: format!(
            "{} in {} is not a valid escape; write `\\\\` for a backslash, `\\+` for a plus \
             sign, or `\\` and two hex digits for any byte",
            crate::error::quote(&escape),
            crate::error::quote(text)
        ),
    }
}

/// Splits `text` at every occurrence of `separator` that is not escaped with `\`.
/// The pieces keep their escapes.
pub fn split_unescaped(text: &str, separator: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, character) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if character == '\\' {
            escaped = true;
        } else if character == separator {
            pieces.push(&text[start..index]);
            start = index + character.len_utf8();
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// Returns the byte index of the first `character` in `text` that is not escaped.
pub fn find_unescaped(text: &str, character: char) -> Option<usize> {
    let mut escaped = false;
    for (index, current) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if current == '\\' {
            escaped = true;
        } else if current == character {
            return Some(index);
        }
    }
    None
}

/// Returns true when the character at byte `index` of `text` is preceded by an odd
/// number of backslashes, that is, when it is escaped.
pub fn is_escaped_at(text: &str, index: usize) -> bool {
    let backslashes = text[..index]
        .bytes()
        .rev()
        .take_while(|&byte| byte == b'\\')
        .count();
    backslashes % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile and ordinary values with their RFC 4514 escaped forms.
    const DN_CASES: &[(&str, &str)] = &[
        ("alice", "alice"),
        ("Jane Doe", "Jane Doe"),
        ("a,b", "a\\,b"),
        ("a+b", "a\\+b"),
        ("a=b", "a\\=b"),
        ("a;b", "a\\;b"),
        ("<a>", "\\<a\\>"),
        ("\"q\"", "\\\"q\\\""),
        ("back\\slash", "back\\\\slash"),
        ("#hash", "\\#hash"),
        ("a#b", "a#b"),
        (" lead", "\\ lead"),
        ("trail ", "trail\\ "),
        (" ", "\\ "),
        ("nul\0", "nul\\00"),
        ("line\nbreak", "line\\0abreak"),
        ("al*", "al*"),
        ("Ærø Ødegård", "Ærø Ødegård"),
        (
            "cn=admin,dc=example,dc=org",
            "cn\\=admin\\,dc\\=example\\,dc\\=org",
        ),
    ];

    #[test]
    fn dn_value_escapes_specials() {
        for (value, expected) in DN_CASES {
            assert_eq!(dn_value(value), *expected, "escaping {value:?}");
        }
    }

    #[test]
    fn read_dn_value_reverses_dn_value() {
        for (value, escaped) in DN_CASES {
            assert_eq!(
                read_dn_value(escaped).as_deref(),
                Ok(*value),
                "reading {escaped:?}"
            );
        }
    }

    #[test]
    fn read_dn_value_accepts_hex_utf8() {
        assert_eq!(read_dn_value("J\\c3\\a6ger").as_deref(), Ok("Jæger"));
        assert_eq!(read_dn_value("a\\2Bb").as_deref(), Ok("a+b"));
    }

    #[test]
    fn read_dn_value_rejects_bad_escapes() {
        for text in ["a\\", "a\\x", "a\\4", "a\\4g", "\\ff\\fe"] {
            assert!(read_dn_value(text).is_err(), "{text:?} should be rejected");
        }
    }

    #[test]
    fn read_dn_value_keeps_unescaped_specials() {
        assert_eq!(read_dn_value("#04024869").as_deref(), Ok("#04024869"));
        assert_eq!(read_dn_value("a,b;c").as_deref(), Ok("a,b;c"));
    }

    #[test]
    fn filter_value_escapes_metacharacters() {
        let cases = [
            ("alice", "alice"),
            ("*", "\\2a"),
            ("al*", "al\\2a"),
            ("(cn=*)", "\\28cn=\\2a\\29"),
            ("a\\b", "a\\5cb"),
            ("nul\0", "nul\\00"),
            (
                "*)(uid=*))(|(uid=*",
                "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a",
            ),
            ("Ødegård", "Ødegård"),
        ];
        for (value, expected) in cases {
            assert_eq!(filter_value(value), expected, "escaping {value:?}");
        }
    }

    #[test]
    fn split_unescaped_respects_escapes() {
        assert_eq!(split_unescaped("a=1+b=2", '+'), vec!["a=1", "b=2"]);
        assert_eq!(split_unescaped("a=1\\+2+b=2", '+'), vec!["a=1\\+2", "b=2"]);
        assert_eq!(split_unescaped("a=1\\\\+b=2", '+'), vec!["a=1\\\\", "b=2"]);
        assert_eq!(split_unescaped("+a=1+", '+'), vec!["", "a=1", ""]);
    }

    #[test]
    fn find_unescaped_skips_escaped() {
        assert_eq!(find_unescaped("cn=a", '='), Some(2));
        assert_eq!(find_unescaped("c\\=n=a", '='), Some(4));
        assert_eq!(find_unescaped("cn", '='), None);
    }

    #[test]
    fn is_escaped_at_counts_backslashes() {
        assert!(is_escaped_at("a\\ ", 2));
        assert!(!is_escaped_at("a\\\\ ", 3));
        assert!(!is_escaped_at("a ", 1));
    }
}
