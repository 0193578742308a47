//! The names of Active Job's own serializers, as they appear in `"_aj_serialized"`.

/// `Time` (a time with an offset); `DateTime<FixedOffset>` is written with it.
pub const TIME: &str = "ActiveJob::Serializers::TimeSerializer";
/// `ActiveSupport::TimeWithZone`; `DateTime<Utc>` is written with it, in zone `UTC`.
pub const TIME_WITH_ZONE: &str = "ActiveJob::Serializers::TimeWithZoneSerializer";
/// Ruby's `DateTime`; read as a time.
pub const DATE_TIME: &str = "ActiveJob::Serializers::DateTimeSerializer";
/// `Date`; `NaiveDate` is written with it.
pub const DATE: &str = "ActiveJob::Serializers::DateSerializer";
/// `ActiveSupport::Duration`; `std::time::Duration` and `chrono::TimeDelta` are written with it.
pub const DURATION: &str = "ActiveJob::Serializers::DurationSerializer";
/// `BigDecimal` (Active Job 7.1 and later); the decimal type of feature `decimal` is written with it.
pub const BIG_DECIMAL: &str = "ActiveJob::Serializers::BigDecimalSerializer";
/// `Symbol`; read as a string.
pub const SYMBOL: &str = "ActiveJob::Serializers::SymbolSerializer";
/// A Ruby class or module, by name; read as a string.
pub const MODULE: &str = "ActiveJob::Serializers::ModuleSerializer";

/// The serializers of Active Job that wrap a single `value`, which serde types read in its place.
pub(crate) fn is_plain(name: &str) -> bool {
    [TIME, TIME_WITH_ZONE, DATE_TIME, DATE, DURATION, BIG_DECIMAL, SYMBOL, MODULE].contains(&name)
}
