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
];

/// Names Cloudinary has that need data this server does not evaluate.
const UNSUPPORTED_OPERANDS: &[&str] = &[
    "tags", "ctx", "md", "tar", "ow", "oh", "du", "idu", "ils", "px", "py",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    Num(f64),
    /// `$name`, without the dollar.
    Var(String),
    Operand(Operand),
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
    if UNSUPPORTED_OPERANDS.contains(&tok) {
        return Err(TransformError::Unsupported(format!(
            "The {tok} operand in expressions"
        )));
    }
    match tok.parse::<f64>() {
        Ok(n) if n.is_finite() && !tok.contains(['e', 'E', 'i', 'I', 'n', 'N']) => Ok(Atom::Num(n)),
        _ => Err(bad(whole)),
    }
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
        let tokens: Vec<&str> = text.split('_').collect();
        Expr::from_tokens(&tokens, text)
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

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub left: Expr,
    pub op: CmpOp,
    pub right: Expr,
}

/// `if_…`: comparisons joined by `and` (binding tighter) and `or`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Disjunction of conjunctions.
    pub any: Vec<Vec<Comparison>>,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition> {
        let tokens: Vec<&str> = text.split('_').collect();
        if tokens.len() > MAX_TOKENS {
            return Err(bad(text));
        }
        if tokens.iter().any(|t| matches!(*t, "in" | "nin")) {
            return Err(TransformError::Unsupported(
                "Conditions on tags, context and metadata (in, nin)".into(),
            ));
        }
        let mut any = vec![Vec::new()];
        for clause in split_keep(&tokens, &["and", "or"]) {
            let (join, toks) = clause;
            if join == Some("or") {
                any.push(Vec::new());
            }
            let at = toks
                .iter()
                .position(|t| CMP.iter().any(|(n, _)| n == t))
                .ok_or_else(|| bad(text))?;
            let op = CMP.iter().find(|(n, _)| *n == toks[at]).map(|(_, o)| *o);
            let cmp = Comparison {
                left: Expr::from_tokens(&toks[..at], text)?,
                op: op.ok_or_else(|| bad(text))?,
                right: Expr::from_tokens(&toks[at + 1..], text)?,
            };
            any.last_mut().expect("never empty").push(cmp);
        }
        Ok(Condition { any })
    }

    pub fn eval(
        &self,
        get: &mut dyn FnMut(&Atom) -> std::result::Result<f64, EvalError>,
    ) -> std::result::Result<bool, EvalError> {
        for all in &self.any {
            let mut ok = true;
            for c in all {
                let (a, b) = (c.left.eval(get)?, c.right.eval(get)?);
                // Cloudinary compares image characteristics loosely.
                let eq = (a - b).abs() < 1e-9;
                ok &= match c.op {
                    CmpOp::Eq => eq,
                    CmpOp::Ne => !eq,
                    CmpOp::Lt => a < b && !eq,
                    CmpOp::Gt => a > b && !eq,
                    CmpOp::Lte => a < b || eq,
                    CmpOp::Gte => a > b || eq,
                };
            }
            if ok {
                return Ok(true);
            }
        }
        Ok(false)
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

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, all) in self.any.iter().enumerate() {
            if i > 0 {
                f.write_str("_or_")?;
            }
            for (j, c) in all.iter().enumerate() {
                if j > 0 {
                    f.write_str("_and_")?;
                }
                let op = CMP.iter().find(|(_, x)| *x == c.op).map_or("?", |(n, _)| n);
                write!(f, "{}_{op}_{}", c.left, c.right)?;
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
            return Ok(VarValue::Text(text.to_owned()));
        }
        Expr::parse(v).map(VarValue::Expr)
    }
}

impl fmt::Display for VarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarValue::Expr(e) => e.fmt(f),
            VarValue::Text(t) => write!(f, "!{t}!"),
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
            Err(TransformError::Unsupported(_))
        ));
    }

    #[test]
    fn conditions_parse_evaluate_and_round_trip() {
        let c = |t: &str, w: f64| {
            let cond = Condition::parse(t).unwrap();
            assert_eq!(cond.to_string(), t);
            cond.eval(&mut |a| match a {
                Atom::Num(n) => Ok(*n),
                Atom::Operand(Operand::Width) => Ok(w),
                _ => Ok(1.5),
            })
            .unwrap()
        };
        assert!(c("w_gt_300", 400.0));
        assert!(!c("w_gt_300", 300.0));
        assert!(c("w_gte_300", 300.0));
        assert!(c("w_lt_300_and_ar_gt_1", 200.0));
        assert!(!c("w_lt_300_and_ar_gt_2", 200.0));
        assert!(c("w_gt_1000_or_ar_eq_1.5", 10.0));
        assert!(c("w_div_2_lte_ih", 2.0));
        assert!(c("w_ne_1", 2.0));
        for bad in ["w_300", "w_gt", "gt_3", "w_gt_3_and", "w_gt_3_xor_h_lt_2"] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Condition::parse("!sale!_in_tags"),
            Err(TransformError::Unsupported(_))
        ));
    }
}
