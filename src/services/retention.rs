//! Customer retention, persisted: the purchase facts kept current as orders are applied
//! ([`facts`]), the daily RFM segmentation ([`segments`]) and the segments' queries ([`query`]).
//! The rules are pure, in `domain::retention`; this keeps the records.

pub mod facts;
pub mod query;
pub mod seed;
pub mod segments;
