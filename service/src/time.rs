use chrono::{DateTime, SubsecRound, Utc};

/// The current time, cut to the microseconds every backend can store, so that what a write
/// returns is exactly what a later read gives back.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
