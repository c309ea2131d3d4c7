//! The sandbox's test cards (they mimic the well-known ones).

/// What a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// 4242 4242 4242 4242: succeeds, frictionless 3-D Secure.
    Frictionless,
    /// 4000 0000 0000 3220: 3-D Secure challenge, then succeeds (code 1234).
    Challenge,
    /// 4000 0084 0000 1629: passes 3-D Secure, then declined.
    ChallengeThenDecline,
    /// 4000 0000 0000 0002: declined.
    Decline,
}

/// The code that passes the sandbox's 3-D Secure challenge.
pub const CHALLENGE_CODE: &str = "1234";

/// Recognises a test card (spaces and dashes ignored). Anything else is refused: the
/// sandbox takes no real card numbers.
pub fn recognise(number: &str) -> Option<Card> {
    let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    match digits.as_str() {
        "4242424242424242" => Some(Card::Frictionless),
        "4000000000003220" => Some(Card::Challenge),
        "4000008400001629" => Some(Card::ChallengeThenDecline),
        "4000000000000002" => Some(Card::Decline),
        _ => None,
    }
}

impl Card {
    /// Stored with the sandbox payment so the challenge step knows what follows.
    pub fn code(self) -> &'static str {
        match self {
            Card::Frictionless => "4242",
            Card::Challenge => "3220",
            Card::ChallengeThenDecline => "1629",
            Card::Decline => "0002",
        }
    }

    pub fn from_code(code: &str) -> Option<Card> {
        [Card::Frictionless, Card::Challenge, Card::ChallengeThenDecline, Card::Decline]
            .into_iter()
            .find(|c| c.code() == code)
    }
}
