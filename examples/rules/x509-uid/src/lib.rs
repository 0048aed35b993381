//! An example DN-rule component: it names a user's entry after the local part of the
//! e-mail address in an X.509 subject.
//!
//! `/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org` becomes the RDN
//! `uid=jane` below `ou=people`, and the templates get `cn` (`Jane Doe`), `sn` (the
//! last word of the CN, `Doe`) and `mail` (`jane@example.org`). The rule ignores the
//! replacement and strip options, because it reads the slash form itself.
//!
//! Build it with `cargo build --release --target wasm32-wasip2 -p x509-uid-rules`.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "dn-rule",
});

use exports::ldap_hooks::hook::dn_rules::{AttributeValue, Guest, ParsedName, RuleOptions};

struct X509Uid;

impl Guest for X509Uid {
    fn parse(submitted: String, _options: RuleOptions) -> Result<ParsedName, String> {
        let subject = read_subject(&submitted)?;
        let name = read_name(&subject)?;
        Ok(ParsedName {
            rdn: vec![pair("uid", &name.uid)],
            parent: vec![vec![pair("ou", "people")]],
            template_values: vec![
                pair("cn", &name.cn),
                pair("sn", &name.sn),
                pair("mail", &name.mail),
            ],
        })
    }
}

fn pair(attribute: &str, value: &str) -> AttributeValue {
    AttributeValue {
        attribute: attribute.to_string(),
        value: value.to_string(),
    }
}

/// The parts of the entry's name that the rule derives from a subject.
#[derive(Debug, PartialEq, Eq)]
pub struct Name {
    pub uid: String,
    pub cn: String,
    pub sn: String,
    pub mail: String,
}

/// Reads `/KEY=VALUE/KEY=VALUE...` into pairs, with the keys in lower case.
pub fn read_subject(subject: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for part in subject.split('/').filter(|part| !part.trim().is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!(
                "the part `{part}` of the subject `{subject}` has no `=`"
            ));
        };
        pairs.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(pairs)
}

/// Finds the CN and the e-mail address and derives uid, sn and mail from them.
pub fn read_name(pairs: &[(String, String)]) -> Result<Name, String> {
    let find = |keys: &[&str]| {
        pairs
            .iter()
            .find(|(key, value)| keys.contains(&key.as_str()) && !value.is_empty())
            .map(|(_, value)| value.clone())
    };
    let cn = find(&["cn"])
        .ok_or("the subject has no CN; a certificate subject names its owner in CN")?;
    let mail = find(&["emailaddress", "email", "e"])
        .ok_or("the subject has no emailAddress, from which the user name is taken")?;

    let Some((local, domain)) = mail.split_once('@') else {
        return Err(format!("the e-mail address `{mail}` has no `@`"));
    };
    let uid = local.to_ascii_lowercase();
    let valid = !uid.is_empty()
        && !domain.is_empty()
        && uid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(format!(
            "the e-mail address `{mail}` does not give a user name: its local part must contain \
             only letters, digits, dots, hyphens and underscores"
        ));
    }

    let sn = cn.split_whitespace().last().unwrap_or(&cn).to_string();
    Ok(Name { uid, cn, sn, mail })
}

export!(X509Uid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_name_derives_uid_and_sn() {
        let pairs = read_subject("/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org")
            .expect("valid");
        let name = read_name(&pairs).expect("valid");
        assert_eq!(name.uid, "jane");
        assert_eq!(name.sn, "Doe");
        assert_eq!(name.cn, "Jane Doe");
        assert_eq!(name.mail, "jane@example.org");
    }

    #[test]
    fn read_name_rejects_incomplete_subjects() {
        for subject in [
            "/C=DK/CN=Jane",
            "/emailAddress=jane@example.org",
            "/CN=J/emailAddress=jane",
            "/CN=J/emailAddress=ja ne@x.org",
            "/CN",
        ] {
            let result = read_subject(subject).and_then(|pairs| read_name(&pairs));
            assert!(result.is_err(), "{subject} should be rejected");
        }
    }
}
