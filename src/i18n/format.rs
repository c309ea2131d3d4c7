//! Amounts and dates written the way each locale writes them: `€19.90` / `19,90 €`,
//! `December 2, 2026` / `2 декабря 2026 г.` / `2 grudnia 2026` / `2. decembar 2026.`
//! (CLDR's long date and standard currency patterns, with its month names in the genitive
//! where the language declines them). Times are UTC and say so.

use chrono::{Datelike, Timelike};

use super::Locale;

/// No-break space: an amount and its symbol, and the groups of a large number, stay on one line.
const NBSP: char = '\u{a0}';

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const RU_MONTHS: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const PL_MONTHS: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];
const SR_MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "mart",
    "april",
    "maj",
    "jun",
    "jul",
    "avgust",
    "septembar",
    "oktobar",
    "novembar",
    "decembar",
];

fn datetime(ts: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// The day of a Unix time (UTC): `December 2, 2026`, `2 декабря 2026 г.`, `2 grudnia 2026`,
/// `2. decembar 2026.`.
pub fn date(locale: Locale, ts: i64) -> String {
    let d = datetime(ts);
    let (day, month, year) = (d.day(), d.month0() as usize, d.year());
    match locale {
        Locale::En => format!("{} {day}, {year}", EN_MONTHS[month]),
        Locale::Ru => format!("{day} {} {year}{NBSP}г.", RU_MONTHS[month]),
        Locale::Pl => format!("{day} {} {year}", PL_MONTHS[month]),
        Locale::Sr => format!("{day}. {} {year}.", SR_MONTHS[month]),
    }
}

/// The day and time of a Unix time, in UTC: `December 2, 2026, 18:55 UTC`,
/// `2 декабря 2026 г., 18:55 UTC`, `2 grudnia 2026, 18:55 UTC`, `2. decembar 2026. u 18:55 UTC`.
pub fn date_time(locale: Locale, ts: i64) -> String {
    let d = datetime(ts);
    let time = format!("{:02}:{:02}{NBSP}UTC", d.hour(), d.minute());
    match locale {
        Locale::Sr => format!("{} u {time}", date(locale, ts)),
        _ => format!("{}, {time}", date(locale, ts)),
    }
}

/// The currency's sign in `locale`, or its ISO code.
fn symbol(locale: Locale, currency: &str) -> String {
    let s = match (currency, locale) {
        ("EUR", _) => "€",
        ("GBP", _) => "£",
        ("USD", Locale::En | Locale::Ru) => "$",
        ("USD", Locale::Sr) => "US$",
        ("RUB", _) => "₽",
        ("KZT", _) => "₸",
        ("PLN", Locale::Pl) => "zł",
        _ => return currency.to_string(),
    };
    s.to_string()
}

/// Digits grouped by thousands with `sep`, grouping only from `min_digits` digits on.
fn grouped(digits: &str, sep: char, min_digits: usize) -> String {
    if digits.len() < min_digits {
        return digits.to_string();
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// An amount in minor units: `€19.90`, `PLN 19.90` (en); `19,90 €` (ru, pl, sr);
/// `1 990,00 ₽` (ru), `19,90 zł` (pl), `1.990,00 RSD` (sr).
pub fn amount(locale: Locale, amount_minor: i64, currency: &str) -> String {
    let currency = currency.to_ascii_uppercase();
    let plain = crate::money::format_minor(amount_minor.abs(), &currency);
    let (int, frac) = plain.split_once('.').map_or((plain.as_str(), None), |(i, f)| (i, Some(f)));
    let sign = if amount_minor < 0 { "-" } else { "" };
    let (group, decimal, min_grouping) = match locale {
        Locale::En => (',', '.', 4),
        Locale::Ru => (NBSP, ',', 4),
        // Polish groups only numbers of five digits or more (CLDR's minimum grouping digits).
        Locale::Pl => (NBSP, ',', 5),
        Locale::Sr => ('.', ',', 4),
    };
    let mut number = grouped(int, group, min_grouping);
    if let Some(f) = frac {
        number.push(decimal);
        number.push_str(f);
    }
    let sym = symbol(locale, &currency);
    match locale {
        Locale::En if sym.chars().count() == 1 => format!("{sign}{sym}{number}"),
        Locale::En => format!("{sign}{sym}{NBSP}{number}"),
        _ => format!("{sign}{number}{NBSP}{sym}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{amount, date, date_time};
    use crate::i18n::Locale;

    const DEC_2_2026_1855: i64 = 1_796_237_700;

    #[test]
    fn amounts_per_locale() {
        assert_eq!(amount(Locale::En, 1990, "EUR"), "€19.90");
        assert_eq!(amount(Locale::En, 123_456, "PLN"), "PLN\u{a0}1,234.56");
        assert_eq!(amount(Locale::Ru, 1990, "EUR"), "19,90\u{a0}€");
        assert_eq!(amount(Locale::Ru, 199_000, "RUB"), "1\u{a0}990,00\u{a0}₽");
        assert_eq!(amount(Locale::Pl, 199_000, "PLN"), "1990,00\u{a0}zł");
        assert_eq!(amount(Locale::Pl, 1_999_000, "PLN"), "19\u{a0}990,00\u{a0}zł");
        assert_eq!(amount(Locale::Sr, 199_000, "RSD"), "1.990,00\u{a0}RSD");
        assert_eq!(amount(Locale::Sr, 500, "JPY"), "500\u{a0}JPY");
        assert_eq!(amount(Locale::En, -1990, "USD"), "-$19.90");
    }

    #[test]
    fn dates_per_locale() {
        assert_eq!(date(Locale::En, DEC_2_2026_1855), "December 2, 2026");
        assert_eq!(date(Locale::Ru, DEC_2_2026_1855), "2 декабря 2026\u{a0}г.");
        assert_eq!(date(Locale::Pl, DEC_2_2026_1855), "2 grudnia 2026");
        assert_eq!(date(Locale::Sr, DEC_2_2026_1855), "2. decembar 2026.");
        assert_eq!(date_time(Locale::En, DEC_2_2026_1855), "December 2, 2026, 18:55\u{a0}UTC");
        assert_eq!(date_time(Locale::Sr, DEC_2_2026_1855), "2. decembar 2026. u 18:55\u{a0}UTC");
    }
}
