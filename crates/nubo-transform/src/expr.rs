//! §9.5 and §9.1 rule 3: user variables, arithmetic expressions and
//! conditions, typed. `w_iw_div_2`, `$small_mul_2`, `if_w_gt_300_and_ar_lt_1`
//! all arrive as `_`-separated tokens; they are parsed here and evaluated
//! by the engine against the image as it is when the component runs.

use std::fmt;

use crate::error::{Result, TransformError};

/// What an expression can read about the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    /// Current width and height (after earlier components).
    Width,
    Height,
    AspectRatio,
    /// The original's.
    InitialWidth,
    InitialHeight,
    InitialAspectRatio,
    FaceCount,
    PageCount,
    CurrentPage,
    /// The aspect ratio the image would have after `e_trim`.
    TrimmedAspectRatio,
}

const OPERANDS: &[(&str, Operand)] = &[
    ("w", Operand::Width),
    ("h", Operand::Height),
    ("ar", Operand::AspectRatio),
    ("iw", Operand::InitialWidth),
    ("ih", Operand::InitialHeight),
    ("iar", Operand::InitialAspectRatio),
    ("fc", Operand::FaceCount),
    ("pc", Operand::PageCount),
    ("cp", Operand::CurrentPage),
    ("tar", Operand::TrimmedAspectRatio),
];

/// Names Cloudinary has that need data this server does not evaluate.
const UNSUPPORTED_OPERANDS: &[&str] = &["ow", "oh", "du", "idu", "ils", "px", "py"];

#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    Num(f64),
    /// `$name`, without the dollar.
    Var(String),
    Operand(Operand),
    /// `ctx:!key!`: the asset's context value.
    Context(String),
    /// `md:!external_id!`: the asset's structured metadata value.
    Metadata(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

const ARITH: &[(&str, ArithOp)] = &[
    ("add", ArithOp::Add),
    ("sub", ArithOp::Sub),
    ("mul", ArithOp::Mul),
    ("div", ArithOp::Div),
    ("mod", ArithOp::Mod),
    ("pow", ArithOp::Pow),
];

impl ArithOp {
    fn rank(self) -> u8 {
        match self {
            ArithOp::Add | ArithOp::Sub => 0,
            ArithOp::Mul | ArithOp::Div | ArithOp::Mod => 1,
            ArithOp::Pow => 2,
        }
    }

    fn apply(self, a: f64, b: f64) -> std::result::Result<f64, EvalError> {
        let v = match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div | ArithOp::Mod if b == 0.0 => return Err(EvalError::DivisionByZero),
            ArithOp::Div => a / b,
            ArithOp::Mod => a % b,
            ArithOp::Pow => a.powf(b),
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(EvalError::OutOfRange)
        }
    }
}

/// Most tokens in one expression or condition.
const MAX_TOKENS: usize = 64;

/// An arithmetic expression: atoms joined by operators, evaluated with
/// the usual precedence (`pow`, then `mul`/`div`/`mod`, then `add`/`sub`).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub first: Atom,
    pub rest: Vec<(ArithOp, Atom)>,
}

/// Why an expression could not be evaluated: the caller's 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("Division by zero in an expression")]
    DivisionByZero,
    #[error("An expression's value is out of range")]
    OutOfRange,
    #[error("Undefined variable ${0}")]
    UndefinedVariable(String),
    #[error("{0} is not a number")]
    NotANumber(String),
}

fn bad(what: &str) -> TransformError {
    TransformError::InvalidValue {
        what: "expression",
        value: what.to_owned(),
    }
}

fn atom(tok: &str, whole: &str) -> Result<Atom> {
    if let Some(name) = tok.strip_prefix('$') {
        if valid_variable(name) {
            return Ok(Atom::Var(name.to_owned()));
        }
        return Err(bad(whole));
    }
    if let Some((_, o)) = OPERANDS.iter().find(|(n, _)| *n == tok) {
        return Ok(Atom::Operand(*o));
    }
    for (prefix, make) in [
        ("ctx:", Atom::Context as fn(String) -> Atom),
        ("md:", Atom::Metadata),
    ] {
        if let Some(name) = tok.strip_prefix(prefix).and_then(quoted) {
            if name.is_empty() {
                return Err(bad(whole));
            }
            return Ok(make(name.to_owned()));
        }
    }
    if tok == "tags" {
        return Err(TransformError::InvalidValue {
            what: "expression (tags only go with in and nin)",
            value: whole.to_owned(),
        });
    }
    if UNSUPPORTED_OPERANDS.contains(&tok) {
        return Err(TransformError::Unsupported(format!(
            "The {tok} operand in expressions"
        )));
    }
    number_of(tok).map(Atom::Num).ok_or_else(|| bad(whole))
}

/// Variable names: a letter, then letters and digits.
pub fn valid_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric())
        && name.len() <= 64
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr> {
        let decoded = decode_once(text)?;
        Expr::from_tokens(&tokenize(&decoded)?, text)
    }

    fn from_tokens(tokens: &[&str], whole: &str) -> Result<Expr> {
        if tokens.is_empty() || tokens.len().is_multiple_of(2) || tokens.len() > MAX_TOKENS {
            return Err(bad(whole));
        }
        let first = atom(tokens[0], whole)?;
        let mut rest = Vec::new();
        for pair in tokens[1..].chunks(2) {
            let op = ARITH
                .iter()
                .find(|(n, _)| *n == pair[0])
                .map(|(_, o)| *o)
                .ok_or_else(|| bad(whole))?;
            rest.push((op, atom(pair[1], whole)?));
        }
        Ok(Expr { first, rest })
    }

    /// Whether the expression reads the asset's context or metadata.
    pub fn reads_asset(&self) -> bool {
        std::iter::once(&self.first)
            .chain(self.rest.iter().map(|(_, a)| a))
            .any(|a| matches!(a, Atom::Context(_) | Atom::Metadata(_)))
    }

    /// Whether a value is an expression rather than a plain number.
    pub fn is_plain_number(&self) -> bool {
        self.rest.is_empty() && matches!(self.first, Atom::Num(_))
    }

    /// The value, reading atoms through `get`.
    pub fn eval(
        &self,
        get: &mut dyn FnMut(&Atom) -> std::result::Result<f64, EvalError>,
    ) -> std::result::Result<f64, EvalError> {
        // Two stacks: values and pending operators of lower precedence.
        let mut values = vec![get(&self.first)?];
        let mut ops: Vec<ArithOp> = Vec::new();
        for (op, a) in &self.rest {
            let v = get(a)?;
            // `pow` is right-associative; the others fold left.
            while let Some(&top) = ops.last() {
                let folds =
                    top.rank() > op.rank() || (top.rank() == op.rank() && *op != ArithOp::Pow);
                if !folds {
                    break;
                }
                fold(&mut values, &mut ops)?;
            }
            ops.push(*op);
            values.push(v);
        }
        while !ops.is_empty() {
            fold(&mut values, &mut ops)?;
        }
        values.pop().ok_or(EvalError::OutOfRange)
    }
}

fn fold(values: &mut Vec<f64>, ops: &mut Vec<ArithOp>) -> std::result::Result<(), EvalError> {
    let (Some(op), Some(b), Some(a)) = (ops.pop(), values.pop(), values.pop()) else {
        return Err(EvalError::OutOfRange);
    };
    values.push(op.apply(a, b)?);
    Ok(())
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Shortest form that reads back the same: `2`, `0.5`.
            Atom::Num(n) => write!(f, "{n}"),
            Atom::Var(v) => write!(f, "${v}"),
            Atom::Context(k) => write!(f, "ctx:{}", Quoted(k)),
            Atom::Metadata(m) => write!(f, "md:{}", Quoted(m)),
            Atom::Operand(o) => {
                let name = OPERANDS
                    .iter()
                    .find(|(_, x)| x == o)
                    .map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.first.fmt(f)?;
        for (op, a) in &self.rest {
            let name = ARITH.iter().find(|(_, x)| x == op).map_or("?", |(n, _)| n);
            write!(f, "_{name}_{a}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Lte,
    Gte,
}

const CMP: &[(&str, CmpOp)] = &[
    ("eq", CmpOp::Eq),
    ("ne", CmpOp::Ne),
    ("lt", CmpOp::Lt),
    ("gt", CmpOp::Gt),
    ("lte", CmpOp::Lte),
    ("gte", CmpOp::Gte),
];

/// One side of a comparison: an expression, or a `!quoted!` string (`!!`
/// is the empty string).
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    Expr(Expr),
    Text(String),
}

/// What `in` and `nin` look into.
#[derive(Debug, Clone, PartialEq)]
pub enum Collection {
    Tags,
    /// `ctx:!key!`: the context value.
    Context(String),
    /// `md:!external_id!`: a set field's entries, or a single value.
    Metadata(String),
}

/// One test of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Compare {
        left: Side,
        op: CmpOp,
        right: Side,
    },
    /// `!a:b!_in_tags`: every listed value is in the collection; `nin`
    /// negates it.
    Contains {
        values: Side,
        within: Collection,
        negated: bool,
    },
}

/// `if_…`: tests joined by `and` (binding tighter) and `or`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Disjunction of conjunctions.
    pub any: Vec<Vec<Test>>,
}

/// What a condition reads while it is evaluated.
pub trait Env {
    /// A numeric atom's value.
    fn number(&mut self, a: &Atom) -> std::result::Result<f64, EvalError>;
    /// An atom's text, when it has one: a context or metadata value (the
    /// empty string when absent), a variable holding text.
    fn text(&mut self, a: &Atom) -> Option<String>;
    /// The values of a collection.
    fn collection(&mut self, c: &Collection) -> Vec<String>;
}

/// The asset's own data that conditions can read: tags, context and
/// structured metadata (by external id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetData {
    pub tags: Vec<String>,
    pub context: std::collections::BTreeMap<String, String>,
    pub metadata: std::collections::BTreeMap<String, MetaValue>,
}

/// A structured metadata value as conditions see it.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// Strings, dates, enum entry ids and numbers, as text.
    Text(String),
    /// A set field's entry ids.
    Set(Vec<String>),
}

impl AssetData {
    /// The text of a `ctx:` or `md:` atom; `None` for other atoms.
    pub fn text(&self, a: &Atom) -> Option<String> {
        match a {
            Atom::Context(k) => Some(self.context.get(k).cloned().unwrap_or_default()),
            Atom::Metadata(f) => Some(match self.metadata.get(f) {
                Some(MetaValue::Text(t)) => t.clone(),
                Some(MetaValue::Set(s)) => s.join(":"),
                None => String::new(),
            }),
            _ => None,
        }
    }

    /// A `ctx:` or `md:` atom read as a number, for arithmetic.
    pub fn number(&self, a: &Atom) -> std::result::Result<f64, EvalError> {
        let text = self.text(a).unwrap_or_default();
        number_of(&text).ok_or_else(|| EvalError::NotANumber(a.to_string()))
    }

    pub fn collection(&self, c: &Collection) -> Vec<String> {
        match c {
            Collection::Tags => self.tags.clone(),
            Collection::Context(k) => self.context.get(k).cloned().into_iter().collect(),
            Collection::Metadata(f) => match self.metadata.get(f) {
                Some(MetaValue::Text(t)) => vec![t.clone()],
                Some(MetaValue::Set(s)) => s.clone(),
                None => Vec::new(),
            },
        }
    }
}

fn number_of(text: &str) -> Option<f64> {
    let t = text.trim();
    let plain = !t.is_empty() && !t.contains(['e', 'E', 'i', 'I', 'n', 'N', 'x', 'X']);
    t.parse::<f64>().ok().filter(|n| plain && n.is_finite())
}

/// Conditions and values arrive percent-encoded once, as URL paths carry
/// them (`!Sale%20now!`); they are read decoded.
fn decode_once(text: &str) -> Result<String> {
    crate::layer::decode_once("expression", text)
}

/// What a quoted string escapes in the canonical form: what would end the
/// quote, the component or the path, and `%` itself.
const QUOTED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b'%')
    .add(b'!')
    .add(b',')
    .add(b'/')
    .add(b' ')
    .add(b'?')
    .add(b'#');

/// `!text!`, escaped for the canonical form.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "!{}!",
            percent_encoding::utf8_percent_encode(self.0, QUOTED)
        )
    }
}

/// Splits a condition into tokens at `_` (or spaces, which the Python
/// SDK leaves in quoted conditions), keeping `!quoted!` strings whole.
fn tokenize(text: &str) -> Result<Vec<&str>> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, ch) in text.char_indices() {
        match ch {
            '!' => quoted = !quoted,
            '_' | ' ' if !quoted => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(bad(text));
    }
    out.push(&text[start..]);
    Ok(out)
}

fn quoted(tok: &str) -> Option<&str> {
    (tok.len() >= 2 && tok.starts_with('!') && tok.ends_with('!')).then(|| &tok[1..tok.len() - 1])
}

impl Side {
    fn parse(toks: &[&str], whole: &str) -> Result<Side> {
        if let [one] = toks {
            if let Some(t) = quoted(one) {
                return Ok(Side::Text(t.to_owned()));
            }
        }
        Expr::from_tokens(toks, whole).map(Side::Expr)
    }

    /// A string, when the side is text or a lone atom that has text.
    fn text(&self, env: &mut dyn Env) -> Option<String> {
        match self {
            Side::Text(t) => Some(t.clone()),
            Side::Expr(e) if e.rest.is_empty() => env.text(&e.first),
            Side::Expr(_) => None,
        }
    }

    fn value(&self, env: &mut dyn Env) -> std::result::Result<Value, EvalError> {
        match (self.text(env), self) {
            (Some(t), _) => Ok(match number_of(&t) {
                Some(n) => Value::Num(n),
                None => Value::Text(t),
            }),
            (None, Side::Expr(e)) => e.eval(&mut |a| env.number(a)).map(Value::Num),
            (None, Side::Text(t)) => Ok(Value::Text(t.clone())),
        }
    }

    fn reads_asset(&self) -> bool {
        matches!(self, Side::Expr(e) if e.reads_asset())
    }
}

enum Value {
    Num(f64),
    Text(String),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Num(n) => format!("{n}"),
            Value::Text(t) => t.clone(),
        }
    }
}

impl Collection {
    fn parse(tok: &str, whole: &str) -> Result<Collection> {
        if tok == "tags" {
            return Ok(Collection::Tags);
        }
        match atom(tok, whole)? {
            Atom::Context(k) => Ok(Collection::Context(k)),
            Atom::Metadata(f) => Ok(Collection::Metadata(f)),
            _ => Err(bad(whole)),
        }
    }
}

impl Test {
    fn parse(toks: &[&str], whole: &str) -> Result<Test> {
        let at = toks
            .iter()
            .position(|t| matches!(*t, "in" | "nin") || CMP.iter().any(|(n, _)| n == t))
            .ok_or_else(|| bad(whole))?;
        let (left, right) = (&toks[..at], &toks[at + 1..]);
        if let Some(op) = CMP.iter().find(|(n, _)| *n == toks[at]).map(|(_, o)| *o) {
            return Ok(Test::Compare {
                left: Side::parse(left, whole)?,
                op,
                right: Side::parse(right, whole)?,
            });
        }
        let [within] = right else {
            return Err(bad(whole));
        };
        Ok(Test::Contains {
            values: Side::parse(left, whole)?,
            within: Collection::parse(within, whole)?,
            negated: toks[at] == "nin",
        })
    }

    fn eval(&self, env: &mut dyn Env) -> std::result::Result<bool, EvalError> {
        match self {
            Test::Compare { left, op, right } => {
                Ok(compare(&left.value(env)?, *op, &right.value(env)?))
            }
            Test::Contains {
                values,
                within,
                negated,
            } => {
                let wanted = match values.text(env) {
                    Some(t) => t,
                    None => values.value(env)?.text(),
                };
                let have = env.collection(within);
                let all = wanted
                    .split(':')
                    .filter(|v| !v.is_empty())
                    .all(|v| have.iter().any(|h| h == v));
                Ok(all != *negated)
            }
        }
    }

    fn reads_asset(&self) -> bool {
        match self {
            Test::Compare { left, right, .. } => left.reads_asset() || right.reads_asset(),
            Test::Contains { .. } => true,
        }
    }
}

/// Numbers compare as numbers (loosely, as Cloudinary compares image
/// characteristics); anything else as strings, so ISO dates order too.
fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Num(x), Value::Num(y)) if (x - y).abs() < 1e-9 => Ordering::Equal,
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        _ => a.text().cmp(&b.text()),
    };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Lte => ord != Ordering::Greater,
        CmpOp::Gte => ord != Ordering::Less,
    }
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition> {
        let decoded = decode_once(text)?;
        let tokens = tokenize(&decoded)?;
        if tokens.len() > MAX_TOKENS {
            return Err(bad(text));
        }
        let mut any = vec![Vec::new()];
        for (join, toks) in split_keep(&tokens, &["and", "or"]) {
            if join == Some("or") {
                any.push(Vec::new());
            }
            let test = Test::parse(&toks, text)?;
            any.last_mut().expect("never empty").push(test);
        }
        Ok(Condition { any })
    }

    pub fn eval(&self, env: &mut dyn Env) -> std::result::Result<bool, EvalError> {
        for all in &self.any {
            let mut ok = true;
            for t in all {
                ok &= t.eval(env)?;
            }
            if ok {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the condition reads the asset's tags, context or metadata
    /// (so a rendering depends on more than the pixels and the URL).
    pub fn reads_asset(&self) -> bool {
        self.any.iter().flatten().any(Test::reads_asset)
    }
}

/// Splits tokens at the separators, keeping which one came before each
/// part (`None` for the first).
fn split_keep<'a>(tokens: &[&'a str], seps: &[&str]) -> Vec<(Option<&'a str>, Vec<&'a str>)> {
    let mut out = vec![(None, Vec::new())];
    for t in tokens {
        if seps.contains(t) {
            out.push((Some(*t), Vec::new()));
        } else {
            out.last_mut().expect("never empty").1.push(*t);
        }
    }
    out
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Side::Expr(e) => e.fmt(f),
            Side::Text(t) => Quoted(t).fmt(f),
        }
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Collection::Tags => f.write_str("tags"),
            Collection::Context(k) => write!(f, "ctx:{}", Quoted(k)),
            Collection::Metadata(m) => write!(f, "md:{}", Quoted(m)),
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Test::Compare { left, op, right } => {
                let op = CMP.iter().find(|(_, x)| x == op).map_or("?", |(n, _)| n);
                write!(f, "{left}_{op}_{right}")
            }
            Test::Contains {
                values,
                within,
                negated,
            } => {
                let op = if *negated { "nin" } else { "in" };
                write!(f, "{values}_{op}_{within}")
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, all) in self.any.iter().enumerate() {
            if i > 0 {
                f.write_str("_or_")?;
            }
            for (j, t) in all.iter().enumerate() {
                if j > 0 {
                    f.write_str("_and_")?;
                }
                t.fmt(f)?;
            }
        }
        Ok(())
    }
}

/// `if_` in a component: a block's start (alone in its component), an
/// inline condition (with other keys), `if_else` or `if_end`.
#[derive(Debug, Clone, PartialEq)]
pub enum Branch {
    If(Condition),
    Else,
    End,
}

impl Branch {
    pub fn parse(v: &str) -> Result<Branch> {
        Ok(match v {
            "else" => Branch::Else,
            "end" => Branch::End,
            _ => Branch::If(Condition::parse(v)?),
        })
    }
}

impl fmt::Display for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Branch::If(c) => c.fmt(f),
            Branch::Else => f.write_str("else"),
            Branch::End => f.write_str("end"),
        }
    }
}

/// `$name_value`: a number or expression, or a `!text!` string.
#[derive(Debug, Clone, PartialEq)]
pub enum VarValue {
    Expr(Expr),
    Text(String),
}

impl VarValue {
    pub fn parse(v: &str) -> Result<VarValue> {
        if let Some(text) = v.strip_prefix('!').and_then(|t| t.strip_suffix('!')) {
            return Ok(VarValue::Text(decode_once(text)?));
        }
        Expr::parse(v).map(VarValue::Expr)
    }
}

impl fmt::Display for VarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarValue::Expr(e) => e.fmt(f),
            VarValue::Text(t) => Quoted(t).fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, w: f64) -> std::result::Result<f64, EvalError> {
        Expr::parse(text).unwrap().eval(&mut |a| match a {
            Atom::Num(n) => Ok(*n),
            Atom::Operand(Operand::Width) => Ok(w),
            Atom::Operand(_) => Ok(10.0),
            Atom::Var(v) if v == "k" => Ok(3.0),
            Atom::Var(v) => Err(EvalError::UndefinedVariable(v.clone())),
            Atom::Context(_) | Atom::Metadata(_) => Ok(7.0),
        })
    }

    #[test]
    fn arithmetic_has_the_usual_precedence() {
        let table = [
            ("w_div_2", 400.0, 200.0),
            ("w_add_2_mul_3", 1.0, 7.0),
            ("w_sub_2_sub_3", 10.0, 5.0),
            ("2_pow_3_pow_2", 0.0, 512.0),
            ("w_mod_7", 20.0, 6.0),
            ("$k_mul_w_add_1", 5.0, 16.0),
            ("0.5_mul_iw", 0.0, 5.0),
            ("-10_add_w", 4.0, -6.0),
        ];
        for (t, w, want) in table {
            assert_eq!(eval(t, w), Ok(want), "{t}");
            assert_eq!(Expr::parse(t).unwrap().to_string(), t, "{t} round-trips");
        }
        assert_eq!(eval("w_div_0", 1.0), Err(EvalError::DivisionByZero));
        assert_eq!(
            eval("$nope_add_1", 1.0),
            Err(EvalError::UndefinedVariable("nope".into()))
        );
        assert_eq!(eval("10_pow_400", 1.0), Err(EvalError::OutOfRange));
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for bad in [
            "", "w_", "w_div", "w_plus_2", "_w", "w__2", "$1a", "nan", "inf", "1e400",
        ] {
            assert!(Expr::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Expr::parse("tags_add_1"),
            Err(TransformError::InvalidValue { .. })
        ));
        assert!(matches!(
            Expr::parse("du_add_1"),
            Err(TransformError::Unsupported(_))
        ));
    }

    /// An image of width `w` (other operands 1.5) with tags, context and
    /// metadata.
    struct Probe {
        w: f64,
        data: AssetData,
    }

    impl Env for Probe {
        fn number(&mut self, a: &Atom) -> std::result::Result<f64, EvalError> {
            match a {
                Atom::Num(n) => Ok(*n),
                Atom::Operand(Operand::Width) => Ok(self.w),
                Atom::Context(_) | Atom::Metadata(_) => self.data.number(a),
                _ => Ok(1.5),
            }
        }
        fn text(&mut self, a: &Atom) -> Option<String> {
            self.data.text(a)
        }
        fn collection(&mut self, c: &Collection) -> Vec<String> {
            self.data.collection(c)
        }
    }

    fn probe(w: f64) -> Probe {
        let mut data = AssetData {
            tags: vec!["sale".into(), "in_stock".into()],
            ..Default::default()
        };
        data.context.insert("productType".into(), "shoes".into());
        data.context.insert("my key".into(), "12".into());
        data.metadata
            .insert("rating".into(), MetaValue::Text("4".into()));
        data.metadata
            .insert("launch".into(), MetaValue::Text("2024-05-01".into()));
        data.metadata.insert(
            "colors".into(),
            MetaValue::Set(vec!["red".into(), "blue".into()]),
        );
        Probe { w, data }
    }

    fn holds(t: &str, w: f64) -> bool {
        let cond = Condition::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(Condition::parse(&cond.to_string()).unwrap(), cond, "{t}");
        cond.eval(&mut probe(w)).unwrap()
    }

    #[test]
    fn conditions_parse_evaluate_and_round_trip() {
        let c = |t: &str, w: f64| {
            assert_eq!(Condition::parse(t).unwrap().to_string(), t);
            holds(t, w)
        };
        assert!(c("w_gt_300", 400.0));
        assert!(!c("w_gt_300", 300.0));
        assert!(c("w_gte_300", 300.0));
        assert!(c("w_lt_300_and_ar_gt_1", 200.0));
        assert!(!c("w_lt_300_and_ar_gt_2", 200.0));
        assert!(c("w_gt_1000_or_ar_eq_1.5", 10.0));
        assert!(c("w_div_2_lte_ih", 2.0));
        assert!(c("w_ne_1", 2.0));
        for bad in [
            "w_300",
            "w_gt",
            "gt_3",
            "w_gt_3_and",
            "w_gt_3_xor_h_lt_2",
            "!sale_in_tags",
            "!sale!_in",
            "!sale!_in_tags_tags",
            "!sale!_in_w",
            "ctx:!!_eq_1",
            "tags_eq_1",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conditions_read_tags_context_and_metadata() {
        let table = [
            ("!sale!_in_tags", true),
            ("!sale:in_stock!_in_tags", true),
            ("!sale:gone!_in_tags", false),
            ("!sale:gone!_nin_tags", true),
            ("!gone!_nin_tags", true),
            ("!sale!_nin_tags", false),
            ("ctx:!productType!_eq_!shoes!", true),
            ("ctx:!productType!_ne_!shoes!", false),
            ("ctx:!productType!_eq_!hats!", false),
            ("ctx:!missing!_eq_!!", true),
            ("ctx:!productType!_eq_!!", false),
            ("ctx:!my key!_gt_10", true),
            ("ctx:!my key!_mul_2_eq_24", true),
            ("md:!rating!_gte_4", true),
            ("md:!rating!_gt_4", false),
            ("md:!rating!_eq_4.0", true),
            ("md:!launch!_lt_!2025-01-01!", true),
            ("!red!_in_md:!colors!", true),
            ("!red:blue!_in_md:!colors!", true),
            ("!green!_in_md:!colors!", false),
            ("!4!_in_md:!rating!", true),
            ("!shoes!_in_ctx:!productType!", true),
            ("!sale!_in_tags_and_w_gt_100", true),
            ("!sale!_in_tags_and_w_gt_100", true),
            ("!gone!_in_tags_or_ctx:!productType!_eq_!shoes!", true),
            // The Python SDK leaves spaces in a condition it sees as quoted.
            ("!red! in md:!colors!", true),
        ];
        for (t, want) in table {
            assert_eq!(holds(t, 400.0), want, "{t}");
        }
        assert!(!holds("!sale!_in_tags_and_w_gt_100", 50.0));
        let c = Condition::parse("!red! in md:!colors!").unwrap();
        assert_eq!(c.to_string(), "!red!_in_md:!colors!");
        // Over HTTP the same arrives percent-encoded; quoted text decodes.
        assert!(holds("!red!%20in%20md:!colors!", 1.0));
        let shoes = Condition::parse("ctx:!productType!_eq_!running%20shoes%2C%20red!").unwrap();
        let Test::Compare { right, .. } = &shoes.any[0][0] else {
            panic!("a comparison")
        };
        assert_eq!(right, &Side::Text("running shoes, red".into()));
        assert_eq!(
            shoes.to_string(),
            "ctx:!productType!_eq_!running%20shoes%2C%20red!"
        );
        assert_eq!(
            VarValue::parse("!Sale%20now%21!").unwrap(),
            VarValue::Text("Sale now!".into())
        );
        assert_eq!(
            VarValue::Text("50% off".into()).to_string(),
            "!50%25%20off!"
        );
        assert!(c.reads_asset());
        assert!(!Condition::parse("w_gt_1").unwrap().reads_asset());
        assert!(Condition::parse("w_gt_ctx:!k!").unwrap().reads_asset());
        // Arithmetic on text that is not a number is the caller's error.
        let sum = Condition::parse("ctx:!productType!_add_1_gt_0").unwrap();
        assert_eq!(
            sum.eval(&mut probe(1.0)),
            Err(EvalError::NotANumber("ctx:!productType!".into()))
        );
    }
}
