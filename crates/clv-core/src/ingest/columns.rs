//! Header sniffing: which delimiter, which column plays which role.

use super::IngestError;
use serde::{Deserialize, Serialize};

/// What a transaction column is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    UserId,
    Timestamp,
    Amount,
    Quantity,
    UnitPrice,
    IsRefund,
    Currency,
    /// An invoice number; ids starting with `C` mark cancellations (UCI Online Retail).
    Invoice,
    /// Cost of what was sold; subtracted when value is counted as margin.
    VariableCost,
    /// Sales/acquisition channel; a customer's first purchase's value is a cohort segment.
    Channel,
    /// Country; a customer's first purchase's value is a cohort segment.
    Country,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::UserId,
        Role::Timestamp,
        Role::Amount,
        Role::Quantity,
        Role::UnitPrice,
        Role::IsRefund,
        Role::Currency,
        Role::Invoice,
        Role::VariableCost,
        Role::Channel,
        Role::Country,
    ];

    /// Roles whose value is kept per customer (from the first purchase).
    pub const SEGMENTS: [Role; 2] = [Role::Channel, Role::Country];

    pub fn name(self) -> &'static str {
        match self {
            Role::UserId => "user_id",
            Role::Timestamp => "timestamp",
            Role::Amount => "amount",
            Role::Quantity => "quantity",
            Role::UnitPrice => "unit_price",
            Role::IsRefund => "is_refund",
            Role::Currency => "currency",
            Role::Invoice => "invoice",
            Role::VariableCost => "variable_cost",
            Role::Channel => "channel",
            Role::Country => "country",
        }
    }

    /// Header names recognised for this role, compared after lower-casing and
    /// dropping everything but letters and digits.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Role::UserId => &[
                "userid",
                "customerid",
                "customer",
                "client",
                "clientid",
                "user",
                "custid",
                "memberid",
                "accountid",
                "buyerid",
                "customerno",
                "customernumber",
                "id",
                "kunde",
                "kundennummer",
                "kundenid",
                "cliente",
            ],
            Role::Timestamp => &[
                "ts",
                "timestamp",
                "date",
                "invoicedate",
                "orderdate",
                "datetime",
                "time",
                "transactiondate",
                "purchasedate",
                "createdat",
                "orderedat",
                "eventtime",
                "day",
                "datum",
                "fecha",
            ],
            Role::Amount => &[
                "amount",
                "revenue",
                "total",
                "sales",
                "netamount",
                "value",
                "dollarvalue",
                "ordertotal",
                "spend",
                "gmv",
                "totalprice",
                "sale",
                "payment",
                "umsatz",
                "betrag",
                "montant",
                "importe",
            ],
            Role::Quantity => &["quantity", "qty", "units", "numberofcds"],
            Role::UnitPrice => &["unitprice", "price", "itemprice"],
            Role::IsRefund => &["isrefund", "refund", "returned", "isreturn", "return", "refunded"],
            Role::Currency => &["currency", "currencycode", "curr", "ccy"],
            Role::Invoice => &["invoiceno", "invoice", "invoiceid", "invoicenumber"],
            // Per row, like the amount (a per-unit cost column must be mapped by hand after multiplying).
            Role::VariableCost => &["variablecost", "cogs", "costofgoodssold", "costofgoods", "cost"],
            Role::Channel => {
                &["channel", "saleschannel", "acquisitionchannel", "marketingchannel", "utmsource", "source"]
            }
            Role::Country => &["country", "countrycode", "shipcountry", "billingcountry", "land", "pais", "pays"],
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.name() == s).ok_or_else(|| format!("unknown column role {s:?}"))
    }
}

pub fn normalise_header(h: &str) -> String {
    h.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Column index per role. `user_id` and `timestamp` are required, and either
/// `amount` or both `quantity` and `unit_price`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub user_id: Option<usize>,
    pub timestamp: Option<usize>,
    pub amount: Option<usize>,
    pub quantity: Option<usize>,
    pub unit_price: Option<usize>,
    pub is_refund: Option<usize>,
    pub currency: Option<usize>,
    pub invoice: Option<usize>,
    #[serde(default)]
    pub variable_cost: Option<usize>,
    #[serde(default)]
    pub channel: Option<usize>,
    #[serde(default)]
    pub country: Option<usize>,
}

impl ColumnMapping {
    pub fn get(&self, role: Role) -> Option<usize> {
        match role {
            Role::UserId => self.user_id,
            Role::Timestamp => self.timestamp,
            Role::Amount => self.amount,
            Role::Quantity => self.quantity,
            Role::UnitPrice => self.unit_price,
            Role::IsRefund => self.is_refund,
            Role::Currency => self.currency,
            Role::Invoice => self.invoice,
            Role::VariableCost => self.variable_cost,
            Role::Channel => self.channel,
            Role::Country => self.country,
        }
    }

    pub fn set(&mut self, role: Role, col: Option<usize>) {
        let slot = match role {
            Role::UserId => &mut self.user_id,
            Role::Timestamp => &mut self.timestamp,
            Role::Amount => &mut self.amount,
            Role::Quantity => &mut self.quantity,
            Role::UnitPrice => &mut self.unit_price,
            Role::IsRefund => &mut self.is_refund,
            Role::Currency => &mut self.currency,
            Role::Invoice => &mut self.invoice,
            Role::VariableCost => &mut self.variable_cost,
            Role::Channel => &mut self.channel,
            Role::Country => &mut self.country,
        };
        *slot = col;
    }

    /// Detect roles from header names: exact alias matches first, then the
    /// first header containing an alias (`order_date_utc` → timestamp).
    pub fn detect(headers: &[String]) -> ColumnMapping {
        let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
        let mut m = ColumnMapping::default();
        let mut taken = vec![false; headers.len()];
        for exact in [true, false] {
            for role in Role::ALL {
                if m.get(role).is_some() {
                    continue;
                }
                let hit = role.aliases().iter().find_map(|alias| {
                    norm.iter().enumerate().position(|(i, n)| {
                        !taken[i] && if exact { n == alias } else { alias.len() > 3 && n.contains(alias) }
                    })
                });
                if let Some(i) = hit {
                    taken[i] = true;
                    m.set(role, Some(i));
                }
            }
        }
        m
    }

    pub fn validate(&self, headers: &[String]) -> Result<(), IngestError> {
        let missing = |what: &str| IngestError::MissingColumn { role: what.to_string(), headers: headers.to_vec() };
        if self.user_id.is_none() {
            return Err(missing("user id (e.g. user_id, customer_id, CustomerID, client)"));
        }
        if self.timestamp.is_none() {
            return Err(missing("timestamp (e.g. ts, date, InvoiceDate, order_date)"));
        }
        if self.amount.is_none() && (self.quantity.is_none() || self.unit_price.is_none()) {
            return Err(missing("amount (e.g. amount, revenue, total, sales), or quantity and unit_price"));
        }
        for role in Role::ALL {
            if let Some(i) = self.get(role) {
                if i >= headers.len() {
                    return Err(IngestError::BadMapping(format!(
                        "{} is mapped to column {} but the file has {} columns",
                        role.name(),
                        i + 1,
                        headers.len()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Amount is derived from quantity × unit price only when there is no amount column.
    pub fn amount_from_parts(&self) -> bool {
        self.amount.is_none()
    }
}

/// Pick the delimiter whose count per line is the most consistent (and
/// non-zero) over the first lines, counting only outside quotes.
pub fn sniff_delimiter(sample: &[u8]) -> u8 {
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let lines: Vec<&[u8]> =
        text.split(|&c| c == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).take(50).collect();
    // A sample cut mid-line ends with a partial line: leave it out.
    let lines = if lines.len() > 2 && !text.ends_with(b"\n") { &lines[..lines.len() - 1] } else { &lines[..] };
    let mut best = (b',', 0usize, 0usize);
    for delim in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines.iter().map(|l| count_unquoted(l, delim)).collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let agreeing = counts.iter().filter(|&&c| c == first).count();
        if (agreeing, first) > (best.1, best.2) {
            best = (delim, agreeing, first);
        }
    }
    best.0
}

fn count_unquoted(line: &[u8], delim: u8) -> usize {
    let mut quoted = false;
    line.iter()
        .filter(|&&c| {
            if c == b'"' {
                quoted = !quoted;
            }
            c == delim && !quoted
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(s: &str) -> Vec<String> {
        s.split(',').map(String::from).collect()
    }

    #[test]
    fn detects_common_layouts() {
        let m = ColumnMapping::detect(&headers("user_id,ts,amount,quantity"));
        assert_eq!((m.user_id, m.timestamp, m.amount, m.quantity), (Some(0), Some(1), Some(2), Some(3)));
        let uci = headers("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country");
        let m = ColumnMapping::detect(&uci);
        assert_eq!(m.user_id, Some(6));
        assert_eq!(m.timestamp, Some(4));
        assert_eq!(m.amount, None);
        assert_eq!((m.quantity, m.unit_price, m.invoice), (Some(3), Some(5), Some(0)));
        assert!(m.validate(&uci).is_ok());
        assert!(m.amount_from_parts());
        let m = ColumnMapping::detect(&headers("Client,Order Date,Revenue,Currency,Returned"));
        assert_eq!(
            (m.user_id, m.timestamp, m.amount, m.currency, m.is_refund),
            (Some(0), Some(1), Some(2), Some(3), Some(4))
        );
    }

    #[test]
    fn missing_roles_name_what_is_expected() {
        let h = headers("name,qty");
        let err = ColumnMapping::detect(&h).validate(&h).unwrap_err().to_string();
        assert!(err.contains("user id"), "{err}");
        assert!(err.contains("name, qty"), "{err}");
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3\n4;5;6"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n\"x,y\"\t2\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a|b\n1|2\n"), b'|');
        assert_eq!(sniff_delimiter(b"\xEF\xBB\xBFid;date\r\n1;2\r\n"), b';');
    }
}
