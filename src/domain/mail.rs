//! E-mail, pure: the kinds of message, the owner's settings and the sending policy.

mod kinds;

pub use kinds::Kind;
