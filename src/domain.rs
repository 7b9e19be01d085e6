//! Pure domain logic: no I/O, no database, no HTTP. Exhaustively unit-tested.

pub mod points;
