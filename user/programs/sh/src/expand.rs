//! expand: replaces the `$` expansions in words by their values, when a command runs.
//!
//! A word becomes zero, one or more arguments ("fields"):
//! * its literal parts and most expansions simply add bytes to the current field;
//! * `$@` makes each script argument a field of its own (`"$@"` keeps `a b` as one);
//! * an unquoted word that comes out empty (`$UNSET`) is no argument at all, while a
//!   quoted one (`""`, `"$UNSET"`) is an empty argument.
//!
//! Values are not split at blanks or globbed: `x="a b"; echo $x` style word splitting
//! is not done (this shell has no variables of its own anyway, only the environment).

use alloc::vec;
use alloc::vec::Vec;

use crate::exec::Shell;
use crate::lexer::{Part, Var, Word};
use vkrt::env;

impl Shell {
    /// The arguments `words` expand to.
    pub fn expand_words(&self, words: &[Word]) -> Vec<Vec<u8>> {
        words.iter().flat_map(|w| self.expand(w)).collect()
    }

    /// The one string a redirection target expands to (fields joined by spaces).
    pub fn expand_target(&self, word: &Word) -> Vec<u8> {
        self.expand(word).join(&b' ')
    }

    /// The fields of one word.
    fn expand(&self, word: &Word) -> Vec<Vec<u8>> {
        let mut fields: Vec<Vec<u8>> = vec![Vec::new()];
        let mut only_split_args = true; // the word is nothing but `$@`s
        for part in &word.parts {
            match part {
                Part::Lit(bytes) => {
                    only_split_args = false;
                    last(&mut fields).extend_from_slice(bytes);
                }
                Part::Var(Var::AllSplit) => self.push_args(&mut fields),
                Part::Var(var) => {
                    only_split_args = false;
                    let value = self.value(var);
                    last(&mut fields).extend_from_slice(&value);
                }
            }
        }
        let nothing = fields.len() == 1 && fields[0].is_empty();
        if nothing && (!word.quoted || (only_split_args && !word.parts.is_empty())) {
            return Vec::new();
        }
        fields
    }

    /// `$@`: the first argument joins the current field, the others start new ones.
    fn push_args(&self, fields: &mut Vec<Vec<u8>>) {
        for (i, arg) in self.args.iter().skip(1).enumerate() {
            if i > 0 {
                fields.push(Vec::new());
            }
            last(fields).extend_from_slice(arg);
        }
    }

    /// The value of an expansion (other than `$@`).
    fn value(&self, var: &Var) -> Vec<u8> {
        let number = |n: i64| alloc::format!("{n}").into_bytes();
        match var {
            Var::Status => number(i64::from(self.status)),
            Var::Pid => number(i64::from(self.pid)),
            Var::LastJob => self
                .last_job
                .map(|p| number(i64::from(p)))
                .unwrap_or_default(),
            Var::Count => number(self.args.len().saturating_sub(1) as i64),
            Var::Arg(i) => self.args.get(*i).cloned().unwrap_or_default(),
            Var::AllJoined | Var::AllSplit => self.args.get(1..).unwrap_or(&[]).join(&b' '),
            Var::Env(name) => core::str::from_utf8(name)
                .ok()
                .and_then(env::var)
                .unwrap_or(b"")
                .to_vec(),
        }
    }
}

/// The field being built (there is always one).
fn last(fields: &mut [Vec<u8>]) -> &mut Vec<u8> {
    let n = fields.len();
    &mut fields[n - 1]
}
