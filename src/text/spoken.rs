//! Spoken variables: prompt texts with placeholders ("Your balance is {balance:money} euros",
//! "您的余额是{balance:money}元") filled with a call's values, written out the way each language
//! reads them, for the speech engine that makes prompts to say.
//!
//! A placeholder is `{name}` or `{name:kind}`; kinds: `number` (1234.5), `money` (two
//! decimals), `digits` (one by one: an account or phone number; Mandarin reads 1 as 幺),
//! `date` (YYYY-MM-DD), `time` (HH:MM), `text` (as it is; the default for values that are not
//! numbers).

/// How a value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// As written.
    Text,
    /// A number, with decimals if it has them.
    Number,
    /// An amount: two decimals (trailing zeros dropped in Mandarin).
    Money,
    /// Digit by digit.
    Digits,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A time of day, `HH:MM`.
    Time,
}

impl ValueKind {
    /// The kind named in a placeholder.
    pub fn parse(s: &str) -> Option<ValueKind> {
        Some(match s {
            "text" => ValueKind::Text,
            "number" => ValueKind::Number,
            "money" => ValueKind::Money,
            "digits" => ValueKind::Digits,
            "date" => ValueKind::Date,
            "time" => ValueKind::Time,
            _ => return None,
        })
    }
}

/// One `{name:kind}` in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The variable.
    pub var: String,
    /// How to read it; `None` when not named (numbers read as numbers, the rest as text).
    pub kind: Option<ValueKind>,
}

/// The placeholders of `template`, or what is wrong with one.
pub fn placeholders(template: &str) -> Result<Vec<Placeholder>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("\"{{\" without \"}}\" in \"{template}\""))?;
        let inner = after[..close].trim();
        let (var, kind) = match inner.split_once(':') {
            Some((v, k)) => {
                let kind = ValueKind::parse(k.trim()).ok_or_else(|| {
                    format!("\"{k}\" in {{{inner}}} is not a kind (number, money, digits, date, time, text)")
                })?;
                (v.trim(), Some(kind))
            }
            None => (inner, None),
        };
        if var.is_empty() || !var.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("{{{inner}}} does not name a variable"));
        }
        out.push(Placeholder {
            var: var.to_string(),
            kind,
        });
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// `template` with each placeholder replaced by its value as `lang` (`en`/`zh`) reads it; a
/// variable without a value is left out.
pub fn render(template: &str, lang: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = after[..close].trim();
        let (var, kind) = match inner.split_once(':') {
            Some((v, k)) => (v.trim(), ValueKind::parse(k.trim())),
            None => (inner, None),
        };
        if let Some(v) = value(var) {
            out.push_str(&say_value(&v, kind, lang));
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A value in words of `lang`.
pub fn say_value(value: &str, kind: Option<ValueKind>, lang: &str) -> String {
    let v = value.trim();
    let zh = lang == "zh";
    let kind = kind.unwrap_or(if parse_decimal(v).is_some() {
        ValueKind::Number
    } else {
        ValueKind::Text
    });
    let said = match kind {
        ValueKind::Text => None,
        ValueKind::Digits => Some(digits(v, zh)),
        ValueKind::Number => parse_decimal(v).map(|(neg, int, frac)| number(neg, int, &frac, zh)),
        ValueKind::Money => parse_decimal(v).map(|(neg, int, frac)| {
            let mut cents: String = frac.chars().chain("00".chars()).take(2).collect();
            if zh {
                cents = cents.trim_end_matches('0').to_string();
            }
            number(neg, int, &cents, zh)
        }),
        ValueKind::Date => date(v, zh),
        ValueKind::Time => time(v, zh),
    };
    said.unwrap_or_else(|| v.to_string())
}

/// "-12.50" → (negative, 12, "50").
fn parse_decimal(v: &str) -> Option<(bool, u64, String)> {
    let (neg, v) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let int = int.replace(',', "");
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 15 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((neg, int.parse().ok()?, frac.to_string()))
}

const EN_ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const EN_TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const ZH_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

fn number(neg: bool, int: u64, frac: &str, zh: bool) -> String {
    let mut out = if zh { zh_int(int) } else { en_int(int) };
    if !frac.is_empty() {
        out.push_str(if zh { "点" } else { " point" });
        for c in frac.chars() {
            let d = c.to_digit(10).unwrap_or(0) as usize;
            if zh {
                out.push_str(ZH_DIGITS[d]);
            } else {
                out.push(' ');
                out.push_str(EN_ONES[d]);
            }
        }
    }
    if neg {
        out.insert_str(0, if zh { "负" } else { "minus " });
    }
    out
}

fn en_below_1000(n: u64) -> String {
    let mut parts = Vec::new();
    if n >= 100 {
        parts.push(format!("{} hundred", EN_ONES[(n / 100) as usize]));
    }
    let r = n % 100;
    if r > 0 {
        let words = if r < 20 {
            EN_ONES[r as usize].to_string()
        } else if r.is_multiple_of(10) {
            EN_TENS[(r / 10) as usize].to_string()
        } else {
            format!(
                "{}-{}",
                EN_TENS[(r / 10) as usize],
                EN_ONES[(r % 10) as usize]
            )
        };
        if n >= 100 {
            parts.push(format!("and {words}"));
        } else {
            parts.push(words);
        }
    }
    parts.join(" ")
}

fn en_int(n: u64) -> String {
    if n == 0 {
        return "zero".into();
    }
    const SCALES: [(u64, &str); 4] = [
        (1_000_000_000_000, "trillion"),
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ];
    let mut parts = Vec::new();
    let mut rest = n;
    for (size, name) in SCALES {
        if rest >= size {
            parts.push(format!("{} {name}", en_below_1000(rest / size)));
            rest %= size;
        }
    }
    if rest > 0 {
        let small = en_below_1000(rest);
        // "one thousand and five", as British English says it.
        if !parts.is_empty() && rest < 100 {
            parts.push(format!("and {small}"));
        } else {
            parts.push(small);
        }
    }
    parts.join(" ")
}

/// Mandarin numbers: 一万二千三百零五, 十二 (not 一十二), 两 is not used (read as written).
fn zh_int(n: u64) -> String {
    if n == 0 {
        return "零".into();
    }
    fn below_10000(n: u64) -> String {
        const UNITS: [&str; 4] = ["千", "百", "十", ""];
        let ds = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
        let mut out = String::new();
        let mut zero = false;
        for (d, unit) in ds.iter().zip(UNITS) {
            if *d == 0 {
                zero = !out.is_empty();
                continue;
            }
            if zero {
                out.push('零');
                zero = false;
            }
            out.push_str(ZH_DIGITS[*d as usize]);
            out.push_str(unit);
        }
        out
    }
    let groups = [
        (n / 100_000_000, "亿"),
        (n / 10_000 % 10_000, "万"),
        (n % 10_000, ""),
    ];
    let mut out = String::new();
    let mut need_zero = false;
    for (g, unit) in groups {
        if g == 0 {
            need_zero = !out.is_empty();
            continue;
        }
        if (need_zero || g < 1000) && !out.is_empty() {
            out.push('零');
        }
        need_zero = false;
        out.push_str(&below_10000(g));
        out.push_str(unit);
    }
    // 一十二 is said 十二.
    if out.starts_with("一十") {
        out = out.replacen("一十", "十", 1);
    }
    out
}

fn digits(v: &str, zh: bool) -> String {
    const ZH_PHONE: [&str; 10] = ["零", "幺", "二", "三", "四", "五", "六", "七", "八", "九"];
    let ds: Vec<usize> = v
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| d as usize)
        .collect();
    if zh {
        ds.iter().map(|d| ZH_PHONE[*d]).collect()
    } else {
        ds.iter().map(|d| EN_ONES[*d]).collect::<Vec<_>>().join(" ")
    }
}

fn date(v: &str, zh: bool) -> Option<String> {
    let mut it = v.split('-');
    let (y, m, d): (u64, usize, u64) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    if zh {
        return Some(format!(
            "{}年{}月{}日",
            digits(&y.to_string(), true).replace('幺', "一"),
            zh_int(m as u64),
            zh_int(d)
        ));
    }
    const MONTHS: [&str; 12] = [
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
    let year = if (2000..2010).contains(&y) {
        en_int(y)
    } else {
        format!("{} {}", en_int(y / 100), en_year_tail(y % 100))
    };
    Some(format!("{} {} {year}", en_ordinal(d), MONTHS[m - 1]))
}

fn en_year_tail(n: u64) -> String {
    match n {
        0 => "hundred".into(),
        1..=9 => format!("oh {}", EN_ONES[n as usize]),
        _ => en_int(n),
    }
}

fn en_ordinal(n: u64) -> String {
    let words = en_int(n);
    let fixes = [
        ("one", "first"),
        ("two", "second"),
        ("three", "third"),
        ("five", "fifth"),
        ("eight", "eighth"),
        ("nine", "ninth"),
        ("twelve", "twelfth"),
    ];
    for (from, to) in fixes {
        if let Some(stem) = words.strip_suffix(from) {
            return format!("{stem}{to}");
        }
    }
    if let Some(stem) = words.strip_suffix('y') {
        return format!("{stem}ieth");
    }
    format!("{words}th")
}

fn time(v: &str, zh: bool) -> Option<String> {
    let (h, m) = v.split_once(':')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    if zh {
        return Some(match m {
            0 => format!("{}点", zh_int(h)),
            _ => format!("{}点{}分", zh_int(h), zh_int(m)),
        });
    }
    Some(match m {
        0 => format!("{} o'clock", en_int(h)),
        1..=9 => format!("{} oh {}", en_int(h), en_int(m)),
        _ => format!("{} {}", en_int(h), en_int(m)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_numbers_money_digits_dates_and_times() {
        let en = |v: &str, k: &str| say_value(v, ValueKind::parse(k), "en");
        assert_eq!(
            en("1234", "number"),
            "one thousand two hundred and thirty-four"
        );
        assert_eq!(en("1005", "number"), "one thousand and five");
        assert_eq!(en("12.5", "money"), "twelve point five zero");
        assert_eq!(en("4471", "digits"), "four four seven one");
        assert_eq!(
            en("2026-12-25", "date"),
            "twenty-fifth December twenty twenty-six"
        );
        assert_eq!(en("2026-03-01", "date"), "first March twenty twenty-six");
        assert_eq!(en("09:05", "time"), "nine oh five");
        assert_eq!(en("Premium", "text"), "Premium");
    }

    #[test]
    fn mandarin_numbers_money_digits_dates_and_times() {
        let zh = |v: &str, k: &str| say_value(v, ValueKind::parse(k), "zh");
        assert_eq!(zh("12", "number"), "十二");
        assert_eq!(zh("105", "number"), "一百零五");
        assert_eq!(zh("12305", "number"), "一万二千三百零五");
        assert_eq!(zh("100000000", "number"), "一亿");
        assert_eq!(zh("12.50", "money"), "十二点五");
        assert_eq!(zh("12.00", "money"), "十二");
        assert_eq!(zh("13800138000", "digits"), "幺三八零零幺三八零零零");
        assert_eq!(zh("2026-12-25", "date"), "二零二六年十二月二十五日");
        assert_eq!(zh("09:30", "time"), "九点三十分");
    }

    #[test]
    fn templates_list_and_fill_their_placeholders() {
        let t = "Your balance is {balance:money} euros, due {due:date}.";
        let p = placeholders(t).unwrap();
        assert_eq!(p[0].var, "balance");
        assert_eq!(p[1].kind, Some(ValueKind::Date));
        let said = render(t, "en", |v| match v {
            "balance" => Some("42.10".into()),
            "due" => Some("2027-01-05".into()),
            _ => None,
        });
        assert_eq!(
            said,
            "Your balance is forty-two point one zero euros, due fifth January twenty twenty-seven."
        );
        assert!(placeholders("{balance:euros}")
            .unwrap_err()
            .contains("not a kind"));
        assert!(placeholders("{ }").is_err());
        assert!(placeholders("{open").is_err());
    }
}
