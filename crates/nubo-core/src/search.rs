//! The Search API's expression language, parsed into a typed AST.
//!
//! `resource_type:image AND (tags:kitten OR tags=cat*) AND bytes>1mb AND
//! created_at>2w` becomes an [`Expr`] of [`Term`]s, each a [`Field`] with a
//! [`Test`] whose value already has the field's type (text, number or time),
//! so the catalog compiles it to SQL without re-checking anything.
//!
//! Semantics (documented in the README):
//! - `field:value` and `field=value` both test equality; a trailing `*`
//!   makes a prefix test (`folder:products/*` is the folder and everything
//!   below it).
//! - `<`, `<=`, `>`, `>=` and `field:[a TO b]` (inclusive) on numbers and
//!   times. Sizes take `kb`/`mb`/`gb`; `aspect_ratio` takes `"16:9"`; times
//!   take ISO dates or ages (`1h`, `2d`, `3w`, `1m` months, `1y`): `>2w`
//!   means "newer than two weeks ago".
//! - `AND` (also implicit between terms), `OR`, `NOT`/`-`, parentheses;
//!   `AND` binds tighter than `OR`.
//! - A bare word matches the public id, filename, a tag or a context value.
//! - Unknown fields match nothing, as on Cloudinary.

use std::fmt;

/// The longest expression accepted, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// How deeply parentheses and `NOT`s may nest.
const MAX_DEPTH: usize = 32;
/// How many terms one expression may hold.
const MAX_TERMS: usize = 200;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Invalid search expression: {0}")]
pub struct SearchError(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, SearchError> {
    Err(SearchError(msg.into()))
}

/// A boolean combination of terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub field: Field,
    pub test: Test,
}

/// What a term looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    ResourceType,
    Type,
    PublicId,
    /// `folder` and `asset_folder` (the same in fixed-folder mode).
    Folder,
    Filename,
    DisplayName,
    Format,
    AssetId,
    Tags,
    Context(String),
    Metadata(String),
    Status,
    Bytes,
    Width,
    Height,
    Pixels,
    AspectRatio,
    CreatedAt,
    UploadedAt,
    /// A bare word: public id, filename, tags or context values.
    Any,
    /// Not a field Nubo knows: matches nothing.
    Unknown(String),
}

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Real,
    Time,
}

impl Field {
    fn parse(name: &str) -> Field {
        if let Some(key) = name.strip_prefix("context.") {
            return Field::Context(key.to_owned());
        }
        if let Some(key) = name.strip_prefix("metadata.") {
            return Field::Metadata(key.to_owned());
        }
        match name {
            "resource_type" => Field::ResourceType,
            "type" => Field::Type,
            "public_id" => Field::PublicId,
            "folder" | "asset_folder" => Field::Folder,
            "filename" => Field::Filename,
            "display_name" => Field::DisplayName,
            "format" => Field::Format,
            "asset_id" => Field::AssetId,
            "tags" | "tag" => Field::Tags,
            "status" => Field::Status,
            "bytes" => Field::Bytes,
            "width" => Field::Width,
            "height" => Field::Height,
            "pixels" => Field::Pixels,
            "aspect_ratio" => Field::AspectRatio,
            "created_at" => Field::CreatedAt,
            "uploaded_at" | "last_updated" => Field::UploadedAt,
            other => Field::Unknown(other.to_owned()),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Field::Bytes | Field::Width | Field::Height | Field::Pixels => Kind::Integer,
            Field::AspectRatio => Kind::Real,
            Field::CreatedAt | Field::UploadedAt => Kind::Time,
            _ => Kind::Text,
        }
    }
}

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Real(f64),
    /// Unix seconds.
    At(i64),
    /// Seconds before "now", resolved when the query runs.
    Ago(i64),
}

impl Value {
    /// Resolves ages against `now`; other values are returned as they are.
    pub fn resolve(&self, now: i64) -> Value {
        match self {
            Value::Ago(secs) => Value::At(now.saturating_sub(*secs)),
            other => other.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn sql(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Eq(Value),
    /// Text starting with this (may be empty: the field is present).
    Prefix(String),
    Cmp(Cmp, Value),
    /// Inclusive on both ends.
    Range(Value, Value),
}

/// Parses an expression. The empty expression is `None` (everything).
pub fn parse(input: &str) -> Result<Option<Expr>, SearchError> {
    if input.len() > MAX_EXPRESSION_BYTES {
        return fail(format!("longer than {MAX_EXPRESSION_BYTES} bytes"));
    }
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        terms: 0,
    };
    let expr = p.or(0)?;
    if let Some(t) = p.peek() {
        return fail(format!("unexpected {t}"));
    }
    Ok(Some(expr))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A word; `quoted` words are never operators or wildcards.
    Word {
        text: String,
        quoted: bool,
    },
    Op(&'static str),
    Open,
    Close,
    OpenRange,
    CloseRange,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word { text, .. } => write!(f, "{text:?}"),
            Tok::Op(op) => write!(f, "'{op}'"),
            Tok::Open => f.write_str("'('"),
            Tok::Close => f.write_str("')'"),
            Tok::OpenRange => f.write_str("'['"),
            Tok::CloseRange => f.write_str("']'"),
        }
    }
}

fn lex(input: &str) -> Result<Vec<Tok>, SearchError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    let mut in_range = false;
    while let Some(&c) = chars.peek() {
        // A value (after an operator, or inside a range) may hold ':' and
        // friends unquoted: `created_at>2024-01-01T10:00:00Z`.
        let value_mode = in_range || matches!(out.last(), Some(Tok::Op(_)));
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                in_range = match c {
                    '[' => true,
                    ']' => false,
                    _ => in_range,
                };
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    '[' => Tok::OpenRange,
                    _ => Tok::CloseRange,
                });
            }
            ':' | '=' | '<' | '>' if value_mode && !matches!(out.last(), Some(Tok::Op(_))) => {
                lex_word(&mut chars, &mut out, true)?;
            }
            ':' | '=' => {
                chars.next();
                out.push(Tok::Op(if c == ':' { ":" } else { "=" }));
            }
            '<' | '>' => {
                chars.next();
                let eq = chars.peek() == Some(&'=');
                if eq {
                    chars.next();
                }
                out.push(Tok::Op(match (c, eq) {
                    ('<', false) => "<",
                    ('<', true) => "<=",
                    ('>', false) => ">",
                    _ => ">=",
                }));
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return fail("unterminated quote"),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => text.push(e),
                            None => return fail("unterminated quote"),
                        },
                        Some(ch) => text.push(ch),
                    }
                }
                out.push(Tok::Word { text, quoted: true });
            }
            _ => lex_word(&mut chars, &mut out, value_mode)?,
        }
    }
    Ok(out)
}

/// An unquoted word; in `value_mode` only whitespace, brackets and quotes
/// end it.
fn lex_word(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut Vec<Tok>,
    value_mode: bool,
) -> Result<(), SearchError> {
    let stops = if value_mode { "()[]\"" } else { "()[]:=<>\"" };
    let mut text = String::new();
    while let Some(&ch) = chars.peek() {
        if ch.is_whitespace() || stops.contains(ch) {
            break;
        }
        chars.next();
        if ch == '\\' {
            match chars.next() {
                Some(e) => text.push(e),
                None => return fail("a trailing backslash"),
            }
        } else {
            text.push(ch);
        }
    }
    out.push(Tok::Word {
        text,
        quoted: false,
    });
    Ok(())
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word { text, quoted: false }) if text == kw)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, SearchError> {
        let mut items = vec![self.and(depth)?];
        while self.keyword("OR") {
            self.pos += 1;
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, SearchError> {
        let mut items = vec![self.unary(depth)?];
        loop {
            if self.keyword("AND") {
                self.pos += 1;
            } else if self.peek().is_none()
                || self.keyword("OR")
                || self.peek() == Some(&Tok::Close)
            {
                break;
            }
            items.push(self.unary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, SearchError> {
        if depth > MAX_DEPTH {
            return fail(format!("nested more than {MAX_DEPTH} deep"));
        }
        if self.keyword("AND") || self.keyword("OR") {
            return fail(format!(
                "a term was expected before {}",
                self.peek().expect("a keyword")
            ));
        }
        if self.keyword("NOT") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        if let Some(Tok::Word {
            text,
            quoted: false,
        }) = self.peek()
        {
            if let Some(rest) = text.strip_prefix('-').filter(|r| !r.is_empty()) {
                let rest = rest.to_owned();
                self.tokens[self.pos] = Tok::Word {
                    text: rest,
                    quoted: false,
                };
                return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
            }
        }
        match self.next() {
            Some(Tok::Open) => {
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some(Tok::Close) => Ok(inner),
                    _ => fail("a '(' without its ')'"),
                }
            }
            Some(Tok::Word { text, quoted }) => {
                self.terms += 1;
                if self.terms > MAX_TERMS {
                    return fail(format!("more than {MAX_TERMS} terms"));
                }
                self.term(text, quoted).map(Expr::Term)
            }
            Some(other) => fail(format!("unexpected {other}")),
            None => fail("it ends where a term was expected"),
        }
    }

    fn term(&mut self, word: String, quoted: bool) -> Result<Term, SearchError> {
        let mut op = match self.peek() {
            Some(Tok::Op(op)) if !quoted => *op,
            _ => {
                return Ok(Term {
                    field: Field::Any,
                    test: text_test(word, quoted),
                })
            }
        };
        self.pos += 1;
        // `bytes:>100` is the same as `bytes>100`.
        if let (":", Some(Tok::Op(cmp))) = (op, self.peek()) {
            if *cmp != ":" && *cmp != "=" {
                op = cmp;
                self.pos += 1;
            }
        }
        let field = Field::parse(&word);
        if op == ":" && self.peek() == Some(&Tok::OpenRange) {
            self.pos += 1;
            let lo = self.word("a range start")?;
            if !matches!(self.next(), Some(Tok::Word { text, quoted: false }) if text == "TO") {
                return fail("a range needs TO between its ends");
            }
            let hi = self.word("a range end")?;
            if self.next() != Some(Tok::CloseRange) {
                return fail("a '[' without its ']'");
            }
            let (lo, hi) = (typed(&field, &lo.0)?, typed(&field, &hi.0)?);
            return Ok(Term {
                field,
                test: Test::Range(lo, hi),
            });
        }
        let (value, quoted) = self.word(&format!("a value after {word}{op}"))?;
        let test = match op {
            ":" | "=" if field.kind() == Kind::Text => text_test(value, quoted),
            ":" | "=" => Test::Eq(typed(&field, &value)?),
            // Metadata compares as its field's type, known only to the catalog.
            _ if field.kind() == Kind::Text
                && !matches!(field, Field::Unknown(_) | Field::Metadata(_)) =>
            {
                return fail(format!("{word} cannot be compared with {op}"))
            }
            _ => {
                let cmp = match op {
                    "<" => Cmp::Lt,
                    "<=" => Cmp::Le,
                    ">" => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                Test::Cmp(cmp, typed(&field, &value)?)
            }
        };
        Ok(Term { field, test })
    }

    fn word(&mut self, what: &str) -> Result<(String, bool), SearchError> {
        match self.next() {
            Some(Tok::Word { text, quoted }) => Ok((text, quoted)),
            _ => fail(format!("expected {what}")),
        }
    }
}

fn text_test(value: String, quoted: bool) -> Test {
    match value.strip_suffix('*') {
        Some(prefix) if !quoted => Test::Prefix(prefix.to_owned()),
        _ => Test::Eq(Value::Text(value)),
    }
}

/// A value in the type its field holds.
fn typed(field: &Field, raw: &str) -> Result<Value, SearchError> {
    match field.kind() {
        Kind::Text => Ok(Value::Text(raw.to_owned())),
        Kind::Integer => integer(raw).map(Value::Integer),
        Kind::Real => real(raw).map(Value::Real),
        Kind::Time => time(raw),
    }
}

fn integer(raw: &str) -> Result<i64, SearchError> {
    let lower = raw.to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let scale: f64 = match unit {
        "" | "b" => 1.0,
        "kb" => 1024.0,
        "mb" => 1024.0 * 1024.0,
        "gb" => 1024.0 * 1024.0 * 1024.0,
        _ => return fail(format!("{raw:?} is not a number (units: kb, mb, gb)")),
    };
    let n: f64 = digits
        .parse()
        .map_err(|_| SearchError(format!("{raw:?} is not a number")))?;
    let v = n * scale;
    if !v.is_finite() || v.abs() > 9.0e15 {
        return fail(format!("{raw:?} is out of range"));
    }
    Ok(v.round() as i64)
}

fn real(raw: &str) -> Result<f64, SearchError> {
    let v = match raw.split_once(':') {
        Some((w, h)) => {
            let (w, h): (f64, f64) = (
                w.parse()
                    .map_err(|_| SearchError(format!("{raw:?} is not a ratio")))?,
                h.parse()
                    .map_err(|_| SearchError(format!("{raw:?} is not a ratio")))?,
            );
            w / h
        }
        None => raw
            .parse()
            .map_err(|_| SearchError(format!("{raw:?} is not a number")))?,
    };
    if v.is_finite() {
        Ok(v)
    } else {
        fail(format!("{raw:?} is not a finite number"))
    }
}

/// An ISO date (`2024-01-31`, `2024-01-31T10:00:00Z`) or an age (`2d`).
fn time(raw: &str) -> Result<Value, SearchError> {
    let unit_secs = |u: &str| -> Option<i64> {
        Some(match u {
            "s" => 1,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            "m" => 30 * 86_400,
            "y" => 365 * 86_400,
            _ => return None,
        })
    };
    if let Some(split) = raw.find(|c: char| !c.is_ascii_digit()).filter(|&i| i > 0) {
        let (n, unit) = raw.split_at(split);
        if let (Ok(n), Some(secs)) = (n.parse::<i64>(), unit_secs(unit)) {
            return Ok(Value::Ago(n.saturating_mul(secs)));
        }
    }
    parse_iso(raw)
        .map(Value::At)
        .ok_or_else(|| SearchError(format!("{raw:?} is not a date (use 2024-01-31 or 2d)")))
}

/// `YYYY-MM-DD`, optionally followed by `THH:MM[:SS]` and `Z`.
fn parse_iso(raw: &str) -> Option<i64> {
    let (date, clock) = match raw.split_once(['T', ' ']) {
        Some((d, c)) => (d, Some(c.trim_end_matches('Z'))),
        None => (raw, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    if !(1970..=9999).contains(&y) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(c) = clock {
        let mut hms = c.split(':');
        let h: i64 = hms.next()?.parse().ok()?;
        let mi: i64 = hms.next().unwrap_or("0").parse().ok()?;
        let s: i64 = hms.next().unwrap_or("0").parse().ok()?;
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + s;
    }
    Some(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A sort key of `sort_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UploadedAt,
    PublicId,
    Filename,
    Folder,
    Format,
    ResourceType,
    Type,
    Bytes,
    Width,
    Height,
}

impl SortField {
    pub fn parse(raw: &str) -> Option<SortField> {
        Some(match raw {
            "created_at" => SortField::CreatedAt,
            "uploaded_at" | "last_updated" => SortField::UploadedAt,
            "public_id" => SortField::PublicId,
            "filename" | "display_name" => SortField::Filename,
            "folder" | "asset_folder" => SortField::Folder,
            "format" => SortField::Format,
            "resource_type" => SortField::ResourceType,
            "type" => SortField::Type,
            "bytes" => SortField::Bytes,
            "width" => SortField::Width,
            "height" => SortField::Height,
            _ => return None,
        })
    }

    pub fn is_text(self) -> bool {
        matches!(
            self,
            SortField::PublicId
                | SortField::Filename
                | SortField::Folder
                | SortField::Format
                | SortField::ResourceType
                | SortField::Type
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    /// `asc`/`desc`, and the `1`/`-1` the Admin API also takes.
    pub fn parse(raw: &str) -> Option<Direction> {
        match raw.to_ascii_lowercase().as_str() {
            "asc" | "1" => Some(Direction::Asc),
            "desc" | "-1" => Some(Direction::Desc),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
