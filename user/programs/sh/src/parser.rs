//! parser: turns tokens into the commands to run.
//!
//! The grammar, a small part of POSIX's:
//!
//! ```text
//! list      := and_or ((';' | '&' | newline) and_or)* [';' | '&']
//! and_or    := pipeline (('&&' | '||') newline* pipeline)*
//! pipeline  := command ('|' newline* command)*
//! command   := (WORD | redirect)+
//! redirect  := ('<' | '>' | '>>' | '>&') WORD      (optionally with a number: 2>)
//! ```
//!
//! Empty lines and empty lists are fine; an empty command (`a | | b`, `; x`) is a syntax
//! error. Input that ends right after `|`, `&&` or `||` is [`Error::Incomplete`]: the
//! command goes on on the next line.

use alloc::format;
use alloc::vec::Vec;

pub use crate::lexer::Error;
use crate::lexer::{self, RedirKind, Token, Word};

/// `2> file`: descriptor `fd` is redirected to `target`.
#[derive(Debug)]
pub struct Redirect {
    pub fd: i32,
    pub kind: RedirKind,
    pub target: Word,
}

/// One simple command: its words (the program and its arguments) and redirections.
#[derive(Debug, Default)]
pub struct Command {
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

/// Commands connected by pipes: `a | b | c`.
pub type Pipeline = Vec<Command>;

/// How a pipeline hangs on the previous one in an [`AndOr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connector {
    /// `&&`: run if the previous one succeeded.
    And,
    /// `||`: run if the previous one failed.
    Or,
}

/// `a && b || c`: the first pipeline, then the others with their connectors.
#[derive(Debug)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
}

/// One element of a list, run in the background if it ended with `&`.
#[derive(Debug)]
pub struct Item {
    pub and_or: AndOr,
    pub background: bool,
}

/// Parses `text` (one or more lines) into the list of things to run.
pub fn parse(text: &[u8]) -> Result<Vec<Item>, Error> {
    let tokens = lexer::tokenize(text)?;
    let mut parser = Parser { tokens, pos: 0 };
    parser.list()
}

/// A syntax error about `token`.
fn unexpected(token: &Token) -> Error {
    Error::Syntax(format!("unexpected {}", token.describe()))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    /// Consumes the next token if it is `token`.
    fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek() == Some(token);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip_newlines(&mut self) {
        while self.eat(&Token::Newline) {}
    }

    fn list(&mut self) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            let Some(token) = self.peek() else {
                return Ok(items);
            };
            if !starts_command(token) {
                return Err(unexpected(token));
            }
            let and_or = self.and_or()?;
            let background = self.eat(&Token::Amp);
            if !background && !self.eat(&Token::Semi) {
                // After an and-or list: a separator or the end.
                match self.peek() {
                    None | Some(Token::Newline) => {}
                    Some(token) => return Err(unexpected(token)),
                }
            }
            items.push(Item { and_or, background });
        }
    }

    fn and_or(&mut self) -> Result<AndOr, Error> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let connector = if self.eat(&Token::AndIf) {
                Connector::And
            } else if self.eat(&Token::OrIf) {
                Connector::Or
            } else {
                return Ok(AndOr { first, rest });
            };
            self.skip_newlines();
            self.expect_command(match connector {
                Connector::And => &Token::AndIf,
                Connector::Or => &Token::OrIf,
            })?;
            rest.push((connector, self.pipeline()?));
        }
    }

    fn pipeline(&mut self) -> Result<Pipeline, Error> {
        let mut commands = alloc::vec![self.command()?];
        while self.eat(&Token::Pipe) {
            self.skip_newlines();
            self.expect_command(&Token::Pipe)?;
            commands.push(self.command()?);
        }
        Ok(commands)
    }

    /// Checks that a command follows the operator `after` (`|`, `&&` or `||`).
    fn expect_command(&self, after: &Token) -> Result<(), Error> {
        match self.peek() {
            None => Err(Error::Incomplete(match after {
                Token::Pipe => "a command must follow `|`",
                Token::AndIf => "a command must follow `&&`",
                _ => "a command must follow `||`",
            })),
            Some(token) if starts_command(token) => Ok(()),
            Some(token) => Err(unexpected(token)),
        }
    }

    fn command(&mut self) -> Result<Command, Error> {
        let mut command = Command::default();
        loop {
            match self.peek().cloned() {
                Some(Token::Word(word)) => {
                    self.pos += 1;
                    command.words.push(word);
                }
                Some(Token::Redirect { fd, kind }) => {
                    self.pos += 1;
                    let target = self.redirect_target(kind)?;
                    command.redirects.push(Redirect { fd, kind, target });
                }
                _ => return Ok(command),
            }
        }
    }

    /// The word after a redirection operator.
    fn redirect_target(&mut self, kind: RedirKind) -> Result<Word, Error> {
        let op = Token::Redirect { fd: 0, kind }.describe();
        match self.peek() {
            Some(Token::Word(word)) => {
                let word = word.clone();
                self.pos += 1;
                Ok(word)
            }
            _ if kind == RedirKind::Dup => {
                Err(Error::Syntax(format!("{op} needs a descriptor number")))
            }
            _ => Err(Error::Syntax(format!("{op} needs a file name"))),
        }
    }
}

/// True if `token` can begin a command.
fn starts_command(token: &Token) -> bool {
    matches!(token, Token::Word(_) | Token::Redirect { .. })
}
