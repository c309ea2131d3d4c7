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
}
