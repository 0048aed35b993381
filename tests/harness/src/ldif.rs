//! Reads the LDIF that `ldapsearch -LLL -o ldif-wrap=no` prints.

use anyhow::{Context, Result, bail};

/// An entry with its attributes in the order they were printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    pub attributes: Vec<(String, String)>,
}

impl Entry {
    /// Returns all values of an attribute, matching the name case-insensitively.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// Returns the first value of an attribute.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.values(name).into_iter().next()
    }
}

/// Parses LDIF content records. Base64 values (`name:: ...`) are decoded as UTF-8.
pub fn parse(text: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for record in text.split("\n\n") {
        let mut dn = None;
        let mut attributes = Vec::new();
        for line in record
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
        {
            let (name, value) = if let Some((name, encoded)) = line.split_once(":: ") {
                (
                    name,
                    decode_base64(encoded).with_context(|| format!("decoding {line:?}"))?,
                )
            } else if let Some((name, value)) = line.split_once(": ") {
                (name, value.to_string())
            } else if let Some(name) = line.strip_suffix(':') {
                (name, String::new())
            } else {
                bail!("unexpected LDIF line {line:?}");
            };
            if name == "dn" {
                dn = Some(value);
            } else {
                attributes.push((name.to_string(), value));
            }
        }
        if let Some(dn) = dn {
            entries.push(Entry { dn, attributes });
        }
    }
    Ok(entries)
}

fn decode_base64(encoded: &str) -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for byte in encoded.trim().bytes().filter(|&byte| byte != b'=') {
        let value = ALPHABET
            .iter()
            .position(|&known| known == byte)
            .with_context(|| format!("invalid base64 character {:?}", byte as char))?;
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(bytes).context("the value is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_plain_and_base64_values() {
        let text = "dn: cn=a,dc=x\ncn: a\nsn:: IGxlYWQ=\n\ndn:: Y249w6ZibGUsZGM9eA==\ncn: b\n";
        let entries = parse(text).expect("valid LDIF");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].values("SN"), vec![" lead"]);
        assert_eq!(entries[1].dn, "cn=æble,dc=x");
    }
}
