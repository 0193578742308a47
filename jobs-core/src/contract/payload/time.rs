//! Reading the time form Active Job writes without chrono's general RFC 3339 parser: every run
//! reads one or two.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// `YYYY-MM-DDTHH:MM:SSZ` with up to nine fractional digits, or `None` for chrono to read (other
/// offsets, other separators, leap seconds, invalid dates and anything else).
pub(super) fn utc(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let fixed = b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    if !fixed || b[b.len() - 1] != b'Z' {
        return None;
    }
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')));
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(&b[0..4])?).ok()?, number(&b[5..7])?, number(&b[8..10])?)?;
    let second = number(&b[17..19])?;
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - u32::try_from(digits.len()).ok()?)
        }
        _ => return None,
    };
    if second > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(number(&b[11..13])?, number(&b[14..16])?, second, nanos)?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn reads_what_chrono_reads() {
        let cases = [
            "2024-05-06T07:08:09.123456789Z",
            "2024-05-06T07:08:09Z",
            "2024-05-06T07:08:09.1Z",
            "2024-05-06T07:08:09.000000001Z",
            "2024-02-29T23:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.5Z",
            "1969-12-31T23:59:59.75Z",
        ];
        for text in cases {
            assert_eq!(utc(text), chrono(text), "{text}");
            assert!(utc(text).is_some(), "{text}");
        }
    }

    #[test]
    fn leaves_every_other_form_to_chrono() {
        let cases = [
            "2024-05-06T07:08:09+02:00",
            "2024-05-06t07:08:09z",
            "2024-05-06 07:08:09Z",
            "2024-05-06T07:08:60Z",
            "2024-02-30T07:08:09Z",
            "2023-02-29T07:08:09Z",
            "2024-13-06T07:08:09Z",
            "2024-05-06T24:08:09Z",
            "2024-05-06T07:60:09Z",
            "2024-05-06T07:08:09.Z",
            "2024-05-06T07:08:09.1234567891Z",
            "2024-05-06T07:08:09,5Z",
            "2024-05-06T07:08:9Z",
            "+2024-05-06T07:08:09Z",
            "2024-05-06T07:08:09.-1Z",
            "20x4-05-06T07:08:09Z",
            "",
        ];
        for text in cases {
            assert_eq!(utc(text), None, "{text}");
        }
    }

    #[test]
    fn agrees_with_chrono_over_many_times() {
        // A spread of times over four centuries, each written with 0 to 9 fractional digits.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let seconds = i64::try_from(seed >> 30).unwrap() % 12_600_000_000 - 2_208_988_800;
            let nanos = u32::try_from(seed % 1_000_000_000).unwrap();
            let time = DateTime::from_timestamp(seconds, nanos).unwrap();
            let digits = usize::try_from(seed % 10).unwrap();
            let full = time.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
            let text = match digits {
                0 => format!("{}Z", &full[..19]),
                n => format!("{}Z", &full[..20 + n]),
            };
            assert_eq!(utc(&text), chrono(&text), "{text}");
            assert!(utc(&text).is_some(), "{text}");
        }
    }
}
