//! Exact money: amounts are integers of a currency's minor unit, parsed once from the
//! decimal text clients send and formatted back the same way. No float touches them.

use std::collections::BTreeMap;
use std::fmt;

/// The most fraction digits a currency may have; 10^18 is the largest power of ten in i64.
const MAX_DIGITS: u32 = 18;

/// A configured currency: its code and how many fraction digits its minor unit has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency {
    code: String,
    digits: u32,
}

impl Currency {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn digits(&self) -> u32 {
        self.digits
    }

    /// Parses a client's decimal amount ("12.50") into minor units.
    ///
    /// # Errors
    /// A message for the client when the text is not a plain positive decimal, has more
    /// fraction digits than the currency, or is too large to hold.
    pub fn parse_amount(&self, text: &str) -> Result<Money, String> {
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };

        if !is_plain_integer(whole) {
            return Err(format!(
                "must be a decimal string such as \"12.50\": digits without sign, spaces, \
                 exponent or leading zeros, optionally a point and up to {} fraction digits",
                self.digits
            ));
        }
        let fraction = fraction.unwrap_or("");
        if text.contains('.')
            && (fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("must have at least one digit after the decimal point".to_owned());
        }
        if fraction.len() > self.digits as usize {
            return Err(format!(
                "{} allows at most {} fraction digits",
                self.code, self.digits
            ));
        }

        let minor = self
            .to_minor(whole, fraction)
            .ok_or_else(|| "is too large".to_owned())?;
        if minor == 0 {
            return Err("must be greater than zero".to_owned());
        }
        Ok(Money {
            minor,
            currency: self.clone(),
        })
    }

    /// Formats minor units with the currency's full number of fraction digits.
    pub fn format(&self, minor: i64) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let magnitude = minor.unsigned_abs();
        if self.digits == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(self.digits);
        let width = self.digits as usize;
        format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
    }

    fn to_minor(&self, whole: &str, fraction: &str) -> Option<i64> {
        let whole: i64 = whole.parse().ok()?;
        let padding = self.digits - fraction.len() as u32;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().ok()?
        };

        whole
            .checked_mul(10i64.checked_pow(self.digits)?)?
            .checked_add(fraction.checked_mul(10i64.checked_pow(padding)?)?)
    }
}

/// "0" or digits not starting with zero.
fn is_plain_integer(text: &str) -> bool {
    let all_digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    all_digits && (text == "0" || !text.starts_with('0'))
}

/// A positive amount in a known currency, in its minor unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> &Currency {
        &self.currency
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.currency.format(self.minor),
            self.currency.code
        )
    }
}

/// The set of currencies this deployment accepts, e.g. `USD:2,EUR:2,JPY:0,BTC:8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currencies {
    by_code: BTreeMap<String, Currency>,
}

impl Currencies {
    /// Parses a comma-separated list of `CODE:DIGITS`.
    ///
    /// # Errors
    /// A message naming the first entry that is not an upper-case code of 3 to 8 letters
    /// followed by a fraction-digit count from 0 to 18, or a code given twice.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut by_code = BTreeMap::new();
        for entry in spec
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let currency = parse_currency(entry)?;
            let code = currency.code.clone();
            if by_code.insert(code.clone(), currency).is_some() {
                return Err(format!("currency {code} is listed twice"));
            }
        }
        if by_code.is_empty() {
            return Err("at least one currency is needed".to_owned());
        }
        Ok(Self { by_code })
    }

    pub fn get(&self, code: &str) -> Option<&Currency> {
        self.by_code.get(code)
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.by_code.keys().map(String::as_str)
    }

    /// Formats a stored amount in its currency.
    ///
    /// A currency removed from the configuration after money was recorded in it has no
    /// known digit count any more; its amounts are then shown as raw minor units.
    pub fn format(&self, code: &str, minor: i64) -> String {
        match self.get(code) {
            Some(currency) => currency.format(minor),
            None => minor.to_string(),
        }
    }
}

/// The currencies accepted when none are configured.
pub const DEFAULT_CURRENCIES: &str = "USD:2,EUR:2,JPY:0,BTC:8";

impl Default for Currencies {
    fn default() -> Self {
        Self::parse(DEFAULT_CURRENCIES)
            .unwrap_or_else(|_| unreachable!("the default currency list is valid"))
    }
}

fn parse_currency(entry: &str) -> Result<Currency, String> {
    let bad = || format!("{entry:?} is not CODE:DIGITS (e.g. USD:2)");
    let (code, digits) = entry.split_once(':').ok_or_else(bad)?;
    let code = code.trim();
    let digits: u32 = digits.trim().parse().map_err(|_| bad())?;

    let code_ok = (3..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase());
    if !code_ok {
        return Err(format!(
            "currency code {code:?} must be 3 to 8 upper-case letters"
        ));
    }
    if digits > MAX_DIGITS {
        return Err(format!(
            "currency {code} may have at most {MAX_DIGITS} fraction digits"
        ));
    }
    Ok(Currency {
        code: code.to_owned(),
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currencies::default()
            .get("USD")
            .cloned()
            .expect("USD is a default currency")
    }

    #[test]
    fn parses_and_formats_exact_amounts() {
        let currencies = Currencies::default();
        let btc = currencies.get("BTC").expect("BTC");
        let jpy = currencies.get("JPY").expect("JPY");

        assert_eq!(usd().parse_amount("12.5").map(|m| m.minor()), Ok(1250));
        assert_eq!(usd().parse_amount("0.10").map(|m| m.minor()), Ok(10));
        assert_eq!(btc.parse_amount("0.00000001").map(|m| m.minor()), Ok(1));
        assert_eq!(jpy.parse_amount("5").map(|m| m.minor()), Ok(5));
        assert_eq!(usd().format(1250), "12.50");
        assert_eq!(btc.format(1), "0.00000001");
        assert_eq!(jpy.format(5), "5");
    }

    #[test]
    fn refuses_everything_but_plain_positive_decimals() {
        let jpy = Currencies::default().get("JPY").cloned().expect("JPY");
        for text in [
            "",
            "0",
            "0.00",
            "-1",
            "+1",
            "01",
            "00.5",
            "1e3",
            " 1",
            "1 ",
            "1.",
            ".5",
            "1.234",
            "1,00",
            "１",
            "1.2.3",
            "NaN",
            "92233720368547758.08",
        ] {
            assert!(usd().parse_amount(text).is_err(), "{text:?} was accepted");
        }
        assert!(jpy.parse_amount("1.0").is_err());
    }

    #[test]
    fn largest_amount_fits_and_one_more_is_refused() {
        assert_eq!(
            usd()
                .parse_amount("92233720368547758.07")
                .map(|m| m.minor()),
            Ok(i64::MAX)
        );
        assert!(usd().parse_amount("92233720368547758.08").is_err());
    }

    #[test]
    fn currency_list_is_validated() {
        assert!(Currencies::parse("USD:2,EUR:2").is_ok());
        for spec in ["", "usd:2", "USD", "USD:x", "USD:19", "USD:2,USD:2", "US:2"] {
            assert!(Currencies::parse(spec).is_err(), "{spec:?} was accepted");
        }
    }
}
