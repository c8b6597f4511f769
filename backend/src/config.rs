//! Numbers read from the environment: timeouts and limits (README "Limits and timeouts").
//!
//! A variable that is unset or empty takes its default; one that is set but invalid is an
//! error naming the variable, never silently replaced by the default.

use std::time::Duration;

/// A duration in seconds (decimals allowed: `0.5`), strictly positive.
pub fn seconds(name: &str, default: Duration) -> Result<Duration, String> {
    parse_seconds(name, std::env::var(name).ok().as_deref(), default)
}

/// A count, at least 1.
pub fn count(name: &str, default: usize) -> Result<usize, String> {
    parse_count(name, std::env::var(name).ok().as_deref(), default)
}

pub fn parse_seconds(
    name: &str,
    value: Option<&str>,
    default: Duration,
) -> Result<Duration, String> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(default);
    };
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "{name}={text:?} is not a number of seconds between 0 and 86400 (e.g. 10 or 0.5)"
        )),
    }
}

pub fn parse_count(name: &str, value: Option<&str>, default: usize) -> Result<usize, String> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(default);
    };
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{name}={text:?} is not a whole number >= 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse() {
        let d = Duration::from_secs(7);
        assert_eq!(parse_seconds("X", None, d), Ok(d));
        assert_eq!(parse_seconds("X", Some(" "), d), Ok(d));
        assert_eq!(
            parse_seconds("X", Some("0.5"), d),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(parse_seconds("X", Some("3"), d), Ok(Duration::from_secs(3)));
        assert!(parse_seconds("X", Some("0"), d).is_err());
        assert!(parse_seconds("X", Some("-1"), d).is_err());
        assert!(parse_seconds("X", Some("NaN"), d).is_err());
        assert!(
            parse_seconds("X", Some("ten"), d)
                .unwrap_err()
                .contains("X=")
        );
    }

    #[test]
    fn counts_parse() {
        assert_eq!(parse_count("N", None, 5), Ok(5));
        assert_eq!(parse_count("N", Some("12"), 5), Ok(12));
        assert!(parse_count("N", Some("0"), 5).is_err());
        assert!(parse_count("N", Some("-3"), 5).is_err());
    }
}
