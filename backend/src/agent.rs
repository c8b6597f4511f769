//! The agent: deterministic, one built-in tool.
//!
//! Given a message, it "thinks", calls the `word_count` tool on the message, and answers
//! with what the tool found. Same input, same output.

use serde::Serialize;

/// The name of the one tool.
pub const TOOL_NAME: &str = "word_count";

/// What the agent says while thinking.
pub const THINKING: &str = "I will count the words and characters of your message.";

/// The output of `word_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WordCount {
    pub words: usize,
    pub characters: usize,
}

/// The tool.
pub fn word_count(text: &str) -> WordCount {
    WordCount {
        words: text.split_whitespace().count(),
        characters: text.chars().count(),
    }
}

/// The agent's answer, given the tool's output.
pub fn answer(count: WordCount) -> String {
    let words = if count.words == 1 { "word" } else { "words" };
    let characters = if count.characters == 1 {
        "character"
    } else {
        "characters"
    };
    format!(
        "Your message has {} {words} and {} {characters}.",
        count.words, count.characters
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_and_characters() {
        let count = word_count("hello  wide\tworld ✓");
        assert_eq!(
            count,
            WordCount {
                words: 4,
                characters: 19
            }
        );
        assert_eq!(answer(count), "Your message has 4 words and 19 characters.");
        assert_eq!(
            answer(word_count("a")),
            "Your message has 1 word and 1 character."
        );
    }
}
