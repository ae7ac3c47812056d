//! Calendar dates of Unix times (UTC), for the timestamps bundles write: zip entries' DOS times
//! and the SBOM's RFC 3339 time.

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar, counted in
/// 400-year eras.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A Unix time as (year, month, day, hour, minute, second), UTC.
pub fn utc(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400) as u32;
    (y, mo, d, s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(utc(1_709_214_310), (2024, 2, 29, 13, 45, 10));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(utc(315_532_800), (1980, 1, 1, 0, 0, 0));
    }
}
