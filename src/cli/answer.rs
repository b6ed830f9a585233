//! `--format text|json` of the commands that change something (`store`, `erase`, `import`,
//! `create`, `rotate`, `rebind`, `annotate`, `setup`): what they did, as one JSON object on
//! stdout for a script to read (docs/commands.md lists the fields). Never a token.

use clap::{Args, ValueEnum};

/// How a command reports what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnswerFormat {
    // Messages for people on stderr, and what each command always printed on stdout.
    Text,
    // Exactly one JSON object on stdout; the messages stay on stderr.
    Json,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct AnswerArgs {
    /// Output: text for people, or one JSON object on stdout saying what was done (never the
    /// token)
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub format: AnswerFormat,
}

impl AnswerArgs {
    /// Text output (the default).
    pub const TEXT: AnswerArgs = AnswerArgs { format: AnswerFormat::Text };

    /// Whether the answer is JSON.
    pub fn json(&self) -> bool {
        self.format == AnswerFormat::Json
    }
}
