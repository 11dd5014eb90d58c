//! Conditions and variables while a chain runs (§9.5): which components
//! apply (`if_` blocks and inline conditions), what `$variables` hold, and
//! each dynamic component resolved against the image as it is then.

use std::borrow::Cow;
use std::collections::HashMap;

use nubo_transform::expr::{
    AssetData, Atom, Branch, Collection, Env, EvalError, Operand, VarValue,
};
use nubo_transform::Component;

use crate::error::{EngineError, Result};

/// What expressions read about the image entering a component.
pub(crate) struct Facts<'a> {
    pub width: f64,
    pub height: f64,
    pub initial_width: f64,
    pub initial_height: f64,
    pub pages: f64,
    /// Counted on first use only: detection costs a pass over the pixels.
    pub faces: &'a mut dyn FnMut() -> f64,
    /// The aspect ratio after an `e_trim`, also measured on first use.
    pub trimmed_ar: &'a mut dyn FnMut() -> f64,
    /// Tags, context and metadata, for conditions that read them.
    pub asset: &'a AssetData,
}

#[derive(Default)]
pub(crate) struct Flow {
    /// Per open block: whether the enclosing code runs, and whether this
    /// branch does.
    blocks: Vec<(bool, bool)>,
    vars: HashMap<String, Var>,
}

/// A variable's value: a number, or text (`$name_!text!`).
enum Var {
    Num(f64),
    Text(String),
}

impl Flow {
    fn running(&self) -> bool {
        self.blocks
            .last()
            .is_none_or(|&(outer, here)| outer && here)
    }

    /// The component to apply, resolved; `None` when it is skipped or only
    /// steers the flow.
    pub fn step<'c>(
        &mut self,
        c: &'c Component,
        facts: &mut Facts,
    ) -> Result<Option<Cow<'c, Component>>> {
        if !c.is_dynamic() {
            return Ok(self.running().then_some(Cow::Borrowed(c)));
        }
        let alone = c.items().len() == 1;
        match &c.branch {
            Some(Branch::If(cond)) if alone => {
                let outer = self.running();
                let here = outer && cond.eval(&mut Reader { flow: self, facts }).map_err(bad)?;
                self.blocks.push((outer, here));
                return Ok(None);
            }
            Some(Branch::Else) => {
                if let Some(top) = self.blocks.last_mut() {
                    top.1 = !top.1;
                }
                return Ok(None);
            }
            Some(Branch::End) => {
                self.blocks.pop();
                return Ok(None);
            }
            _ => {}
        }
        if !self.running() {
            return Ok(None);
        }
        if let Some(Branch::If(cond)) = &c.branch {
            if !cond.eval(&mut Reader { flow: self, facts }).map_err(bad)? {
                return Ok(None);
            }
        }
        for (name, value) in &c.variables {
            let var = match value {
                VarValue::Text(t) => Var::Text(t.clone()),
                // A lone context or metadata value that is not a number is
                // text (`$label_ctx:!label!`, for `l_text:…:$(label)`).
                VarValue::Expr(e) => match lone_text(e, facts.asset) {
                    Some(t) => Var::Text(t),
                    None => Var::Num(e.eval(&mut |a| self.read(a, facts)).map_err(bad)?),
                },
            };
            self.vars.insert(name.clone(), var);
        }
        let resolved = c
            .resolve(&mut |a| self.read(a, facts))
            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
        Ok(Some(Cow::Owned(resolved)))
    }

    /// `text` with each `$(name)` replaced by the variable's text or
    /// number; an undefined one is the caller's error.
    pub fn substitute(&self, text: &str) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("$(") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else {
                out.push_str(&rest[at..]);
                return Ok(out);
            };
            let name = &after[..end];
            match self.vars.get(name) {
                Some(Var::Text(t)) => out.push_str(t),
                Some(Var::Num(n)) => out.push_str(&format!("{n}")),
                None if nubo_transform::expr::valid_variable(name) => {
                    return Err(bad(EvalError::UndefinedVariable(name.to_owned())))
                }
                // Not a variable's name: the text as written.
                None => out.push_str(&rest[at..at + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn read(&self, a: &Atom, facts: &mut Facts) -> std::result::Result<f64, EvalError> {
        Ok(match a {
            Atom::Num(n) => *n,
            Atom::Var(v) => match self.vars.get(v) {
                Some(Var::Num(n)) => *n,
                Some(Var::Text(_)) => return Err(EvalError::NotANumber(format!("${v}"))),
                None => return Err(EvalError::UndefinedVariable(v.clone())),
            },
            Atom::Context(_) | Atom::Metadata(_) => facts.asset.number(a)?,
            Atom::Operand(o) => match o {
                Operand::Width => facts.width,
                Operand::Height => facts.height,
                Operand::AspectRatio => facts.width / facts.height,
                Operand::InitialWidth => facts.initial_width,
                Operand::InitialHeight => facts.initial_height,
                Operand::InitialAspectRatio => facts.initial_width / facts.initial_height,
                Operand::FaceCount => (facts.faces)(),
                Operand::PageCount => facts.pages,
                Operand::CurrentPage => 1.0,
                Operand::TrimmedAspectRatio => (facts.trimmed_ar)(),
            },
        })
    }
}

/// The text of an expression that is one `ctx:`/`md:` atom whose value is
/// not a number.
fn lone_text(e: &nubo_transform::expr::Expr, asset: &AssetData) -> Option<String> {
    if !e.rest.is_empty() || asset.number(&e.first).is_ok() {
        return None;
    }
    asset.text(&e.first)
}

/// A condition's view of the flow and the image.
struct Reader<'f, 'a> {
    flow: &'f Flow,
    facts: &'f mut Facts<'a>,
}

impl Env for Reader<'_, '_> {
    fn number(&mut self, a: &Atom) -> std::result::Result<f64, EvalError> {
        self.flow.read(a, self.facts)
    }

    fn text(&mut self, a: &Atom) -> Option<String> {
        match a {
            Atom::Var(v) => match self.flow.vars.get(v) {
                Some(Var::Text(t)) => Some(t.clone()),
                _ => None,
            },
            _ => self.facts.asset.text(a),
        }
    }

    fn collection(&mut self, c: &Collection) -> Vec<String> {
        self.facts.asset.collection(c)
    }
}

fn bad(e: EvalError) -> EngineError {
    EngineError::BadRequest(e.to_string())
}
