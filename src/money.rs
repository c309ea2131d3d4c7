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
}
