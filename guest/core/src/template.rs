//! Templates with `{name}` placeholders, in the subset of Python's `str.format` syntax
//! that ldap-hooks 0.1.2 configurations use: `{name}` inserts a value, `{{` and `}}`
//! stand for literal braces. Format specs, conversions, indexes and positional fields
//! are rejected, so a typo cannot end up stored literally.

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`. The error names the text and the offending brace.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut characters = text.char_indices().peekable();

        while let Some((index, character)) = characters.next() {
            match character {
                '{' if characters.peek().map(|(_, c)| *c) == Some('{') => {
                    characters.next();
                    literal.push('{');
                }
                '}' if characters.peek().map(|(_, c)| *c) == Some('}') => {
                    characters.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[index + 1..];
                    let Some(length) = rest.find('}') else {
                        return Err(format!(
                            "the `{{` at position {index} of `{text}` is not closed; \
                             write `{{{{` for a literal brace"
                        ));
                    };
                    let name = &rest[..length];
                    check_placeholder_name(name, text)?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Placeholder(name.to_string()));
                    for _ in 0..name.chars().count() + 1 {
                        characters.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "the `}}` at position {index} of `{text}` has no opening brace; \
                         write `}}}}` for a literal brace"
                    ));
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }

        Ok(Template {
            source: text.to_string(),
            pieces,
        })
    }

    /// Returns the template as configured.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Returns the placeholder names in order of appearance, with repeats.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Placeholder(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// Returns true when the template is a single placeholder and nothing else, so that
    /// it may expand to several values.
    pub fn is_single_placeholder(&self) -> bool {
        matches!(self.pieces.as_slice(), [Piece::Placeholder(_)])
    }

    /// Fills the placeholders with values from `lookup`, which returns the values of a
    /// name or a clause saying why there are none. The error names the placeholder.
    ///
    /// A template that is one placeholder yields all values of that name. Elsewhere a
    /// placeholder must have exactly one value.
    pub fn render(
        &self,
        mut lookup: impl FnMut(&str) -> Result<Vec<String>, String>,
    ) -> Result<Vec<String>, String> {
        let mut lookup = |name: &str| {
            lookup(name)
                .map_err(|reason| format!("the placeholder `{{{name}}}` has no value: {reason}"))
        };
        if let [Piece::Placeholder(name)] = self.pieces.as_slice() {
            let values = lookup(name)?;
            if values.is_empty() {
                return Err(format!("the placeholder `{{{name}}}` has no value"));
            }
            return Ok(values);
        }

        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Placeholder(name) => {
                    let values = lookup(name)?;
                    match values.as_slice() {
                        [value] => text.push_str(value),
                        [] => return Err(format!("the placeholder `{{{name}}}` has no value")),
                        several => {
                            return Err(format!(
                                "the placeholder `{{{name}}}` has {} values, and inside `{}` it \
                                 needs one; use LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY to take the first",
                                several.len(),
                                self.source
                            ));
                        }
                    }
                }
            }
        }
        Ok(vec![text])
    }
}

fn check_placeholder_name(name: &str, text: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        && !name.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{{{name}}}` in `{text}` is not a supported placeholder; write `{{name}}` with a \
             name from dynamic_attributes, without format specs, indexes or conversions"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &[&str])]) -> impl FnMut(&str) -> Result<Vec<String>, String> {
        let pairs: Vec<(String, Vec<String>)> = pairs
            .iter()
            .map(|(name, values)| {
                (
                    name.to_string(),
                    values.iter().map(|v| v.to_string()).collect(),
                )
            })
            .collect();
        move |name: &str| {
            pairs
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, values)| values.clone())
                .ok_or_else(|| format!("`{name}` is unknown"))
        }
    }

    #[test]
    fn render_fills_placeholders() {
        let template = Template::parse("/home/{uid}").expect("valid");
        let rendered = template.render(values(&[("uid", &["alice"])]));
        assert_eq!(rendered, Ok(vec!["/home/alice".to_string()]));
    }

    #[test]
    fn render_keeps_escaped_braces() {
        let template = Template::parse("{{literal}} {uid}").expect("valid");
        let rendered = template.render(values(&[("uid", &["a"])]));
        assert_eq!(rendered, Ok(vec!["{literal} a".to_string()]));
        assert_eq!(template.placeholders().collect::<Vec<_>>(), vec!["uid"]);
    }

    #[test]
    fn render_single_placeholder_expands_all_values() {
        let template = Template::parse("{mail}").expect("valid");
        assert!(template.is_single_placeholder());
        let rendered = template.render(values(&[("mail", &["a@x", "b@x"])]));
        assert_eq!(rendered, Ok(vec!["a@x".to_string(), "b@x".to_string()]));
    }

    #[test]
    fn render_rejects_several_values_inside_text() {
        let template = Template::parse("mail: {mail}").expect("valid");
        let error = template
            .render(values(&[("mail", &["a@x", "b@x"])]))
            .expect_err("two values");
        assert!(error.contains("has 2 values"), "{error}");
    }

    #[test]
    fn render_reports_missing_values() {
        let template = Template::parse("/home/{uid}").expect("valid");
        let error = template.render(values(&[])).expect_err("no uid");
        assert!(error.contains("uid"), "{error}");
        let empty = template
            .render(values(&[("uid", &[])]))
            .expect_err("empty uid");
        assert!(empty.contains("no value"), "{empty}");
    }

    #[test]
    fn parse_rejects_unsupported_syntax() {
        for text in [
            "{", "}", "a{b", "{}", "{0}", "{uid!r}", "{uid:>5}", "{a.b}", "{a[0]}", "{ uid}",
        ] {
            assert!(
                Template::parse(text).is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    #[test]
    fn parse_accepts_plain_text() {
        let template = Template::parse("100").expect("valid");
        assert_eq!(template.placeholders().count(), 0);
        assert_eq!(template.render(values(&[])), Ok(vec!["100".to_string()]));
    }
}
