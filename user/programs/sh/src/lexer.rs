//! lexer: cuts the shell's input into tokens: words, operators and redirections.
//!
//! A word runs until an unquoted blank or operator character (`| & ; < >` or newline).
//! Quoting decides how its bytes are read:
//!
//! * `'...'`: everything literally, up to the next `'`;
//! * `"..."`: literally, except that `$` expands and `\` escapes `$ " \` and newline;
//! * `\c` outside quotes: `c` literally; `\` before a newline joins the two lines;
//! * `$?`, `$$`, `$!`, `$#`, `$0`..`$9`, `$@`, `$*`, `$NAME`, `${NAME}`: expansions, kept
//!   as [`Part::Var`] and replaced only when the command runs (so that `false; echo $?`
//!   sees the status of `false`).
//!
//! `#` at the start of a word starts a comment, to the end of the line. Unquoted `(` and
//! `)` are a syntax error: subshells and functions are not supported. A word made of
//! digits directly followed by `<` or `>` is a descriptor number (`2>`). Input that ends
//! inside a quote or after a `\` is [`Error::Incomplete`]: the caller may read another
//! line and try again.

use alloc::string::String;
use alloc::vec::Vec;

/// What went wrong, for the lexer and the parser.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// The input stopped in the middle of something (a quote, a `|`); more input may
    /// complete it. The text says what is unfinished.
    Incomplete(&'static str),
    /// The input can never be a valid command.
    Syntax(String),
}

/// A `$` expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Var {
    /// `$?`: the status of the last command.
    Status,
    /// `$$`: the shell's pid.
    Pid,
    /// `$!`: the pid of the last background job.
    LastJob,
    /// `$#`: the number of arguments.
    Count,
    /// `$0` .. `$9`: the script's name and arguments.
    Arg(usize),
    /// `$@`: every argument as a word of its own.
    AllSplit,
    /// `$*`: every argument, joined by spaces into one word.
    AllJoined,
    /// `$NAME`: an environment variable.
    Env(Vec<u8>),
}

/// A piece of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Bytes taken as they are.
    Lit(Vec<u8>),
    /// An expansion.
    Var(Var),
}

/// A word: its pieces, and whether any of it was quoted (a quoted empty word, `''`, is
/// still an argument; an unquoted word that expands to nothing is not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Word {
    pub parts: Vec<Part>,
    pub quoted: bool,
}

impl Word {
    /// Adds one literal byte.
    fn push(&mut self, byte: u8) {
        match self.parts.last_mut() {
            Some(Part::Lit(bytes)) => bytes.push(byte),
            _ => self.parts.push(Part::Lit(alloc::vec![byte])),
        }
    }

    /// The word's text if it is one plain literal (`>&2` wants a number, `cd` a name).
    pub fn literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [Part::Lit(bytes)] => Some(bytes),
            [] => Some(b""),
            _ => None,
        }
    }
}

/// How a redirection opens its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirKind {
    /// `<`: read the file.
    Read,
    /// `>`: create or truncate the file, write it.
    Write,
    /// `>>`: create the file or append to it.
    Append,
    /// `>&`: make the descriptor a copy of another (`2>&1`).
    Dup,
}

/// A token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word(Word),
    /// `|`
    Pipe,
    /// `||`
    OrIf,
    /// `&`
    Amp,
    /// `&&`
    AndIf,
    /// `;`
    Semi,
    /// End of a line.
    Newline,
    /// `<`, `>`, `>>` or `>&`, for descriptor `fd`.
    Redirect {
        fd: i32,
        kind: RedirKind,
    },
}

impl Token {
    /// How the token looks in an error message.
    pub fn describe(&self) -> &'static str {
        match self {
            Token::Word(_) => "word",
            Token::Pipe => "`|`",
            Token::OrIf => "`||`",
            Token::Amp => "`&`",
            Token::AndIf => "`&&`",
            Token::Semi => "`;`",
            Token::Newline => "newline",
            Token::Redirect { kind, .. } => match kind {
                RedirKind::Read => "`<`",
                RedirKind::Write => "`>`",
                RedirKind::Append => "`>>`",
                RedirKind::Dup => "`>&`",
            },
        }
    }
}

/// What [`Error::Incomplete`] says when the input ends with a `\`.
const BACKSLASH_AT_END: &str = "`\\` at the end of the input";

/// True for the bytes that end an unquoted word.
fn is_special(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b'|' | b'&' | b';' | b'<' | b'>' | b'(' | b')'
    )
}

/// Cuts `text` into tokens.
pub fn tokenize(text: &[u8]) -> Result<Vec<Token>, Error> {
    let mut lexer = Lexer { text, pos: 0 };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

/// The position in the input.
struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// Consumes the next byte if it is `b`.
    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The next token, or `None` at the end of the input.
    fn next_token(&mut self) -> Result<Option<Token>, Error> {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        let Some(b) = self.peek() else {
            return Ok(None);
        };
        if b == b'#' {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.pos += 1;
            }
            return self.next_token();
        }
        if b == b'\\' && self.text.get(self.pos + 1) == Some(&b'\n') {
            self.pos += 2; // a line continuation between words
            if self.pos == self.text.len() {
                return Err(Error::Incomplete(BACKSLASH_AT_END));
            }
            return self.next_token();
        }
        if b == b'(' || b == b')' {
            return Err(Error::Syntax(String::from(
                "`(` and `)` are not supported (no subshells or functions)",
            )));
        }
        if is_special(b) {
            self.pos += 1;
            return Ok(Some(self.operator(b, None)));
        }
        let word = self.word()?;
        // `2>`: a number touching a redirection is the descriptor it redirects.
        if let (Some(digits), Some(op @ (b'<' | b'>'))) = (word.literal(), self.peek()) {
            if !word.quoted && !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                if let Ok(fd) = core::str::from_utf8(digits).unwrap_or("").parse() {
                    self.pos += 1;
                    return Ok(Some(self.operator(op, Some(fd))));
                }
            }
        }
        Ok(Some(Token::Word(word)))
    }

    /// The operator starting with `b` (already consumed); `fd` is the descriptor number
    /// written before a redirection, if any (by default `<` redirects 0, `>` 1).
    fn operator(&mut self, b: u8, fd: Option<i32>) -> Token {
        match b {
            b'\n' => Token::Newline,
            b';' => Token::Semi,
            b'|' if self.eat(b'|') => Token::OrIf,
            b'|' => Token::Pipe,
            b'&' if self.eat(b'&') => Token::AndIf,
            b'&' => Token::Amp,
            b'<' => Token::Redirect {
                fd: fd.unwrap_or(0),
                kind: RedirKind::Read,
            },
            _ => {
                let kind = if self.eat(b'>') {
                    RedirKind::Append
                } else if self.eat(b'&') {
                    RedirKind::Dup
                } else {
                    RedirKind::Write
                };
                Token::Redirect {
                    fd: fd.unwrap_or(1),
                    kind,
                }
            }
        }
    }

    /// A word, up to the first unquoted special byte.
    fn word(&mut self) -> Result<Word, Error> {
        let mut word = Word::default();
        while let Some(b) = self.peek() {
            if is_special(b) {
                break;
            }
            self.pos += 1;
            match b {
                b'\'' => self.single_quoted(&mut word)?,
                b'"' => self.double_quoted(&mut word)?,
                b'\\' => self.escaped(&mut word)?,
                b'$' => self.dollar(&mut word),
                _ => word.push(b),
            }
        }
        Ok(word)
    }

    /// After a `'`: everything up to the closing `'`, literally.
    fn single_quoted(&mut self, word: &mut Word) -> Result<(), Error> {
        word.quoted = true;
        loop {
            match self.peek() {
                None => return Err(Error::Incomplete("unterminated single quote")),
                Some(b'\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b) => {
                    word.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// After a `"`: up to the closing `"`, with `$` expansions and `\` escapes.
    fn double_quoted(&mut self, word: &mut Word) -> Result<(), Error> {
        word.quoted = true;
        loop {
            let Some(b) = self.peek() else {
                return Err(Error::Incomplete("unterminated double quote"));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(()),
                b'$' => self.dollar(word),
                b'\\' => match self.peek() {
                    Some(b'\n') => self.pos += 1,
                    Some(c @ (b'$' | b'"' | b'\\')) => {
                        word.push(c);
                        self.pos += 1;
                    }
                    _ => word.push(b'\\'),
                },
                _ => word.push(b),
            }
        }
    }

    /// After a `\` outside quotes: the next byte literally, or nothing before a newline.
    fn escaped(&mut self, word: &mut Word) -> Result<(), Error> {
        word.quoted = true;
        match self.peek() {
            None => Err(Error::Incomplete(BACKSLASH_AT_END)),
            Some(b'\n') if self.pos + 1 == self.text.len() => {
                Err(Error::Incomplete(BACKSLASH_AT_END))
            }
            Some(b'\n') => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => {
                word.push(b);
                self.pos += 1;
                Ok(())
            }
        }
    }

    /// After a `$`: an expansion, or a plain `$` if none follows.
    fn dollar(&mut self, word: &mut Word) {
        let var = match self.peek() {
            Some(b'?') => Some(Var::Status),
            Some(b'$') => Some(Var::Pid),
            Some(b'!') => Some(Var::LastJob),
            Some(b'#') => Some(Var::Count),
            Some(b'@') => Some(Var::AllSplit),
            Some(b'*') => Some(Var::AllJoined),
            Some(d @ b'0'..=b'9') => Some(Var::Arg(usize::from(d - b'0'))),
            _ => None,
        };
        if let Some(var) = var {
            self.pos += 1;
            word.parts.push(Part::Var(var));
        } else if let Some(name) = self.var_name() {
            word.parts.push(Part::Var(Var::Env(name)));
        } else {
            word.push(b'$');
        }
    }

    /// A variable name after `$`: `NAME` or `{NAME}`; `None` (consuming nothing) if there
    /// is none.
    fn var_name(&mut self) -> Option<Vec<u8>> {
        let start = self.pos;
        let braced = self.eat(b'{');
        let name_start = self.pos;
        while let Some(b) = self.peek() {
            let ok = b == b'_'
                || b.is_ascii_alphabetic()
                || (b.is_ascii_digit() && self.pos > name_start);
            if !ok {
                break;
            }
            self.pos += 1;
        }
        let name = self.text[name_start..self.pos].to_vec();
        if name.is_empty() || (braced && !self.eat(b'}')) {
            self.pos = start;
            return None;
        }
        Some(name)
    }
}
