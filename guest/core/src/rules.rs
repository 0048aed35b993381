//! The default DN rules: read a submitted value as one RDN.
//!
//! The value goes through the configured replacements, is split into attribute values
//! at every unescaped `+`, and each part is read as `attribute=value` with RFC 4514
//! escapes. With the replacement `/` to `+`, the X.509 subject
//! `/C=DK/O=Example/CN=Jane Doe` becomes the RDN `c=DK+o=Example+cn=Jane Doe`.
//!
//! The strip characters are removed from the ends of the value and from attribute
//! names, but never from inside a value: `CN=al*` stays `al*` and `CN=alice.` stays
//! `alice.`. A part that contains nothing but strip characters, such as the empty part
//! before a leading separator, is dropped. Anything else that cannot be read is an
//! error that names the part.

use crate::error::quote;
use crate::escape;
use crate::names;
use crate::types::{AttributeValue, ParsedName, RuleOptions};

/// Reads `submitted` with the default rules.
pub fn parse(submitted: &str, options: &RuleOptions) -> Result<ParsedName, String> {
    let mut text = submitted.to_string();
    for (from, to) in &options.replacements {
        if from.is_empty() {
            return Err(
                "replace_object_with has an empty key; remove it or name the text to replace"
                    .to_string(),
            );
        }
        text = text.replace(from.as_str(), to);
    }

    let strip = |c: char| {
        options
            .strip_chars
            .iter()
            .any(|s| s.chars().any(|x| x == c))
    };
    let strip_spaces = strip(' ');

    let mut rdn: Vec<AttributeValue> = Vec::new();
    for part in escape::split_unescaped(&text, '+') {
        if part.chars().all(strip) {
            continue;
        }
        let pair = parse_part(part, &strip, strip_spaces, submitted)?;
        if let Some(earlier) = rdn
            .iter()
            .find(|earlier| names::same(&earlier.attribute, &pair.attribute))
        {
            return Err(format!(
                "the attribute `{}` appears more than once in {} (also as `{}`); an entry name \
                 can hold each attribute once",
                pair.attribute,
                quote(submitted),
                earlier.attribute
            ));
        }
        rdn.push(pair);
    }

    if rdn.is_empty() {
        return Err(format!(
            "{} contains no attribute values; submit a name such as `/CN=Jane Doe`",
            quote(submitted)
        ));
    }

    Ok(ParsedName {
        template_values: rdn.clone(),
        rdn,
        parent: Vec::new(),
    })
}

/// Reads one `attribute=value` part.
fn parse_part(
    part: &str,
    strip: &impl Fn(char) -> bool,
    strip_spaces: bool,
    submitted: &str,
) -> Result<AttributeValue, String> {
    let Some(equals) = escape::find_unescaped(part, '=') else {
        return Err(format!(
            "the part {} of {} has no `=`; write each part as attribute=value, and escape a \
             separator inside a value as `\\+`",
            quote(part),
            quote(submitted)
        ));
    };

    let attribute = part[..equals].trim_matches(|c: char| strip(c) || c == ' ');
    if attribute.is_empty() {
        return Err(format!(
            "the part {} of {} has no attribute name before `=`",
            quote(part),
            quote(submitted)
        ));
    }
    names::check_attribute_type(attribute)
        .map_err(|reason| format!("in {}: {reason}", quote(submitted)))?;

    let raw_value = &part[equals + 1..];
    let raw_value = if strip_spaces {
        trim_unescaped_spaces(raw_value)
    } else {
        raw_value
    };
    if raw_value.is_empty() {
        return Err(format!(
            "the attribute `{attribute}` in {} has an empty value; give it a value or leave the \
             attribute out",
            quote(submitted)
        ));
    }
    let value = escape::read_dn_value(raw_value).map_err(|error| {
        format!(
            "the value of `{attribute}` in {}: {error}",
            quote(submitted)
        )
    })?;

    Ok(AttributeValue::new(attribute, value))
}

/// Removes leading spaces and trailing spaces that are not escaped as `\ `.
fn trim_unescaped_spaces(text: &str) -> &str {
    let text = text.trim_start_matches(' ');
    let mut end = text.len();
    while end > 0 && text.as_bytes()[end - 1] == b' ' && !escape::is_escaped_at(text, end - 1) {
        end -= 1;
    }
    &text[..end]
}

/// Returns the default strip characters of ldap-hooks 0.1.2.
pub fn default_strip_chars() -> Vec<String> {
    ["/", "+", "*", ",", ".", "!", " "]
        .iter()
        .map(|c| c.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slash_options() -> RuleOptions {
        RuleOptions {
            replacements: vec![("/".to_string(), "+".to_string())],
            strip_chars: default_strip_chars(),
        }
    }

    fn pairs(name: &ParsedName) -> Vec<(&str, &str)> {
        name.rdn
            .iter()
            .map(|pair| (pair.attribute.as_str(), pair.value.as_str()))
            .collect()
    }

    #[test]
    fn parse_reads_slash_subject() {
        let name = parse(
            "/telephoneNumber=23012303403/SN=My Surname/CN=alice",
            &slash_options(),
        )
        .expect("valid subject");
        assert_eq!(
            pairs(&name),
            vec![
                ("telephoneNumber", "23012303403"),
                ("SN", "My Surname"),
                ("CN", "alice")
            ]
        );
        assert!(name.parent.is_empty());
        assert_eq!(name.template_values, name.rdn);
    }

    #[test]
    fn parse_reads_x509_subject() {
        let name = parse(
            "/C=DK/ST=NA/L=NA/O=Some Institute/OU=NA/CN=Jane Doe/emailAddress=jane@example.org",
            &slash_options(),
        )
        .expect("valid subject");
        assert_eq!(name.rdn.len(), 7);
        assert_eq!(pairs(&name)[6], ("emailAddress", "jane@example.org"));
    }

    #[test]
    fn parse_keeps_meaningful_characters() {
        let cases = [
            ("/CN=al*", "al*"),
            ("/CN=alice.", "alice."),
            ("/CN=alice!", "alice!"),
            ("/CN=.alice", ".alice"),
            ("/CN=a,b", "a,b"),
            ("/CN=a=b", "a=b"),
            ("/CN=a\\+b", "a+b"),
            ("/CN=trailing\\ ", "trailing "),
        ];
        for (submitted, expected) in cases {
            let name = parse(submitted, &slash_options()).expect(submitted);
            assert_eq!(name.rdn[0].value, expected, "value of {submitted:?}");
        }
    }

    #[test]
    fn parse_drops_separator_parts() {
        for submitted in [
            "/CN=alice/",
            "//CN=alice",
            "/CN=alice//",
            " /CN=alice/ .",
            "+CN=alice+",
        ] {
            let name = parse(submitted, &slash_options()).expect(submitted);
            assert_eq!(
                pairs(&name),
                vec![("CN", "alice")],
                "parts of {submitted:?}"
            );
        }
    }

    #[test]
    fn parse_trims_spaces_around_values() {
        let name = parse("/CN = Jane Doe /SN=Doe", &slash_options()).expect("valid");
        assert_eq!(pairs(&name), vec![("CN", "Jane Doe"), ("SN", "Doe")]);
    }

    #[test]
    fn parse_without_replacements_reads_plus_form() {
        let options = RuleOptions {
            replacements: Vec::new(),
            strip_chars: default_strip_chars(),
        };
        let name = parse("cn=alice+sn=Smith", &options).expect("valid");
        assert_eq!(pairs(&name), vec![("cn", "alice"), ("sn", "Smith")]);
    }

    #[test]
    fn parse_rejects_unreadable_values() {
        let cases = [
            ("/CN=", "empty value"),
            ("/CN=alice/=bob", "no attribute name"),
            ("/alice", "no `=`"),
            ("/CN=a+b", "no `=`"),
            ("", "contains no attribute values"),
            ("///", "contains no attribute values"),
            ("/CN=alice/cn=bob", "more than once"),
            ("/C N=alice", "not a valid attribute name"),
            ("/cn;binary=alice", "options are not allowed"),
            ("/CN=a\\q", "not a valid escape"),
        ];
        for (submitted, expected) in cases {
            let error = parse(submitted, &slash_options()).expect_err(submitted);
            assert!(error.contains(expected), "{submitted:?} gave {error:?}");
        }
    }

    #[test]
    fn parse_rejects_empty_replacement_key() {
        let options = RuleOptions {
            replacements: vec![(String::new(), "+".to_string())],
            strip_chars: Vec::new(),
        };
        assert!(parse("cn=a", &options).is_err());
    }
}
