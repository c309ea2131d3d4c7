//! Money is integer minor units; this knows each currency's exponent for display.

/// Decimal places of a currency's minor unit (ISO 4217).
pub fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// `1990, "EUR"` → `"19.90"`.
pub fn format_minor(amount_minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    if exp == 0 {
        return amount_minor.to_string();
    }
    let div = 10i64.pow(exp);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let a = amount_minor.unsigned_abs();
    format!("{sign}{}.{:0width$}", a / div as u64, a % div as u64, width = exp as usize)
}

/// `"19.99", "EUR"` → `Some(1999)`: a non-negative decimal string in minor units by the
/// currency's exponent. Refuses signs, blanks, exponents, more decimals than the currency has
/// (trailing zeros aside: `"19.990"` is fine for EUR), a bare or trailing `.`, and overflow.
pub fn parse_decimal(amount: &str, currency: &str) -> Option<i64> {
    let exp = exponent(currency) as usize;
    let (int, frac) = match amount.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return None,
        None => (amount, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp {
        return None;
    }
    let mut digits = int.bytes().chain(frac.bytes()).chain(std::iter::repeat_n(b'0', exp - frac.len()));
    digits.try_fold(0i64, |acc, d| acc.checked_mul(10)?.checked_add(i64::from(d - b'0')))
}

/// A price as people type it (`"12 990,00"`, `"12,990.00"`, `"12990"`, `"12 990.5"`), in minor
/// units of `currency`. Spaces (also no-break and thin ones) and apostrophes group thousands;
/// with both `.` and `,` the last one is the decimal mark; a mark used twice groups thousands;
/// one mark followed by exactly three digits (`"1,500"`: 1500 or 1.5?) is read as decimals when
/// the currency has three (`"5.000"` KWD), the integer part is `0` (`"0.234"`) or longer than
/// three digits (`"1234.500"`), as thousands when the currency has none, and otherwise refused
/// as ambiguous. `Err` is a sentence to show the person who typed it.
pub fn parse_price(text: &str, currency: &str) -> Result<i64, String> {
    let exp = exponent(currency) as usize;
    let s: String = text
        .trim()
        .chars()
        .map(|c| if matches!(c, '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'' | '\u{2019}') { ' ' } else { c })
        .collect();
    if s.is_empty() {
        return Err("Enter an amount, e.g. 12 990,00.".into());
    }
    if !s.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | ',')) {
        return Err(format!(
            "`{s}` is not an amount: use digits, spaces and one decimal point or comma (no sign, no currency)."
        ));
    }
    let (dots, commas) = (s.matches('.').count(), s.matches(',').count());
    let last_mark = s.rfind(['.', ',']).map(|i| (i, s.as_bytes()[i] as char));
    let decimal = match (dots, commas, last_mark) {
        (0, 0, _) | (_, _, None) => None,
        (d, c, Some((i, mark))) if d > 0 && c > 0 => {
            if s.matches(mark).count() > 1 {
                return Err(format!("`{s}` has more than one decimal mark."));
            }
            Some(i)
        }
        (n, 0, _) | (0, n, _) if n > 1 => None, // "1.234.567": thousands
        (_, _, Some((i, _))) => {
            let after = s.len() - i - 1;
            let int = s[..i].replace(' ', "");
            // "5.000" KWD, "0.234", "1234.500": three digits after the one mark can only be
            // decimals when the currency has three, the integer part is 0, or it is too long
            // to be a thousands group.
            let decimals = exp == 3 || int == "0" || int.len() > 3;
            if after == 3 && exp != 0 && !decimals {
                // Only exp == 1 or 2 gets here: suggest forms that read back unambiguously.
                let frac = &s[i + 1..];
                let whole = format!("{int}{frac}.{}", "0".repeat(exp));
                let fraction = frac.strip_suffix('0').filter(|f| f.len() <= exp).map(|f| format!("{int}.{f}"));
                return Err(match fraction {
                    Some(fraction) => format!(
                        "`{s}` is ambiguous: {int}{frac} or {int}.{frac}? Write {whole} for the first, {fraction} for the second."
                    ),
                    None => format!("`{s}` is ambiguous: {int}{frac} or {int}.{frac}? Write {whole} if you mean {int}{frac}."),
                });
            }
            (after != 3 || (exp != 0 && decimals)).then_some(i)
        }
    };
    let (int, frac) = match decimal {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s.as_str(), ""),
    };
    if decimal.is_some() && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("`{s}` has no digits after its decimal mark."));
    }
    let groups: Vec<&str> = int.split([' ', '.', ',']).collect();
    let grouped = groups.len() > 1;
    let bad_group = groups
        .iter()
        .enumerate()
        .any(|(i, g)| g.is_empty() || (grouped && ((i == 0 && g.len() > 3) || (i > 0 && g.len() != 3))));
    if bad_group {
        return Err(format!("`{s}`: thousands are grouped by three digits, as in 12 990,00 or 12,990.00."));
    }
    let digits = groups.concat();
    let plain = if frac.is_empty() { digits } else { format!("{digits}.{frac}") };
    parse_decimal(&plain, currency).ok_or_else(|| {
        if frac.trim_end_matches('0').len() > exp {
            format!("{} amounts have {exp} decimal places at most.", currency.to_ascii_uppercase())
        } else {
            format!("`{s}` is too large.")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_exponent() {
        assert_eq!(format_minor(1990, "EUR"), "19.90");
        assert_eq!(format_minor(5, "usd"), "0.05");
        assert_eq!(format_minor(500, "JPY"), "500");
        assert_eq!(format_minor(1234, "KWD"), "1.234");
    }

    #[test]
    fn parses_decimals_by_exponent() {
        assert_eq!(parse_decimal("19.99", "EUR"), Some(1999));
        assert_eq!(parse_decimal("19.9", "eur"), Some(1990));
        assert_eq!(parse_decimal("19", "EUR"), Some(1900));
        assert_eq!(parse_decimal("19.990", "EUR"), Some(1999));
        assert_eq!(parse_decimal("0.05", "EUR"), Some(5));
        assert_eq!(parse_decimal("007.50", "EUR"), Some(750));
        assert_eq!(parse_decimal("500", "JPY"), Some(500));
        assert_eq!(parse_decimal("500.00", "JPY"), Some(500));
        assert_eq!(parse_decimal("500.5", "JPY"), None);
        assert_eq!(parse_decimal("1.234", "KWD"), Some(1234));
        assert_eq!(parse_decimal("1.2", "KWD"), Some(1200));
        assert_eq!(parse_decimal("1.2345", "KWD"), None);
        assert_eq!(parse_decimal("19.999", "EUR"), None);
        for bad in ["", ".", "-1", "+1", "-0.01", "1.", ".5", "1,00", "1e3", " 1", "1 ", "1.2.3", "abc", "0x10", "١"] {
            assert_eq!(parse_decimal(bad, "EUR"), None, "{bad:?}");
        }
        assert_eq!(parse_decimal("92233720368547758.07", "EUR"), Some(i64::MAX));
        assert_eq!(parse_decimal("92233720368547758.08", "EUR"), None);
        assert_eq!(parse_decimal("9223372036854775807", "JPY"), Some(i64::MAX));
        assert_eq!(parse_decimal("99999999999999999999999", "JPY"), None);
        assert_eq!(parse_decimal("0000000000000000000000001", "JPY"), Some(1));
    }

    #[test]
    fn three_decimal_prices_are_read_as_typed() {
        assert_eq!(parse_price("5.000", "KWD"), Ok(5_000));
        assert_eq!(parse_price("5,000", "KWD"), Ok(5_000));
        assert_eq!(parse_price("1234.500", "OMR"), Ok(1_234_500));
        assert_eq!(parse_price("1 234,500", "BHD"), Ok(1_234_500));
        assert_eq!(parse_price("0.234", "KWD"), Ok(234));
        assert_eq!(parse_price("0.234", "EUR").unwrap_err(), "EUR amounts have 2 decimal places at most.");
        assert_eq!(parse_price("0.230", "EUR"), Ok(23));
        assert_eq!(parse_price("1234.500", "EUR"), Ok(123_450));
        assert_eq!(parse_price("12,990", "JPY"), Ok(12_990), "no decimals: still thousands");
        // What the admin form pre-fills (format_minor) reads back as the same amount.
        for (minor, currency) in [(5_000, "KWD"), (1_234_500, "OMR"), (234, "KWD"), (1_990, "EUR"), (500, "JPY")] {
            assert_eq!(parse_price(&format_minor(minor, currency), currency), Ok(minor), "{minor} {currency}");
        }
    }

    #[test]
    fn prices_are_read_as_people_type_them() {
        for (typed, minor) in [
            ("12 990,00", 1_299_000),
            ("12,990.00", 1_299_000),
            ("12990", 1_299_000),
            ("12 990.5", 1_299_050),
            ("12.990,00", 1_299_000),
            ("1 234 567", 123_456_700),
            ("1,234,567.89", 123_456_789),
            ("1.234.567", 123_456_700),
            ("19,9", 1990),
            ("19.90", 1990),
            ("0,05", 5),
            ("12\u{a0}990,00", 1_299_000),
            ("12'990.00", 1_299_000),
            (" 7 ", 700),
        ] {
            assert_eq!(parse_price(typed, "EUR"), Ok(minor), "{typed:?}");
        }
        assert_eq!(parse_price("12,990", "JPY"), Ok(12_990), "no decimals: the comma groups thousands");
        assert_eq!(parse_price("1 500", "RUB"), Ok(150_000));
        let ambiguous = parse_price("1,500", "EUR").unwrap_err();
        assert!(ambiguous.contains("ambiguous") && ambiguous.contains("1500"), "{ambiguous}");
        assert!(parse_price("1.500", "EUR").unwrap_err().contains("ambiguous"));
        for bad in
            ["", "-5", "€5", "1,2,3.4,5", "12 99,00", "1 2345", "1.", ",5 0", "1..2", "1,,2", "5e3", "12.990.00,5.0"]
        {
            assert!(parse_price(bad, "EUR").is_err(), "{bad:?} was accepted");
        }
        assert!(parse_price("19.999", "EUR").unwrap_err().contains("ambiguous"));
        // The advice never proposes a form that means another amount.
        let advice = parse_price("1.500", "EUR").unwrap_err();
        assert!(advice.ends_with("Write 1500.00 for the first, 1.50 for the second."), "{advice}");
        assert_eq!((parse_price("1500.00", "EUR"), parse_price("1.50", "EUR")), (Ok(150_000), Ok(150)));
        let advice = parse_price("19.999", "EUR").unwrap_err();
        assert!(advice.ends_with("Write 19999.00 if you mean 19999."), "{advice}");
        assert!(parse_price("19.9999", "EUR").unwrap_err().contains("2 decimal places"));
        assert!(parse_price("99999999999999999999", "EUR").unwrap_err().contains("too large"));
    }
}
