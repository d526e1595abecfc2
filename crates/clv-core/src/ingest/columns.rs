//! Header sniffing: which delimiter, which column plays which role.

use super::IngestError;
use serde::{Deserialize, Serialize};

/// What a transaction column is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The customer id: rows with the same id (byte-exact) are one customer. Required.
    UserId,
    /// When the transaction happened, in any shape [`dates`](super::dates) reads. Required.
    Timestamp,
    /// The row's money, negative for a refund. Required unless both `Quantity` and
    /// `UnitPrice` are mapped.
    Amount,
    /// Units sold; with `UnitPrice`, gives the amount (quantity × unit price) when
    /// there is no amount column.
    Quantity,
    /// Price per unit; see `Quantity`.
    UnitPrice,
    /// A flag (1/0, true/false, yes/no) marking the row as a refund, netted as −|amount|.
    IsRefund,
    /// The currency code of the row's amount: a file holds one currency unless a
    /// rates table converts them.
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
    /// Every role, in declaration order. Header detection gives roles their columns
    /// in this order (exact matches first, then partial ones), and a column goes
    /// to the first role that claims it.
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

    /// The snake_case name (the serde name) used in JSON, on the command line and
    /// in reports; `str::parse` reads it back.
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

    /// Whether a header merely containing an alias may take this role. Not
    /// for the roles that turn sales into refunds: `invoice_status` is no
    /// invoice number and `Amount Refunded` no refund flag.
    fn by_substring(self) -> bool {
        !matches!(self, Role::IsRefund | Role::Invoice)
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
                // Before a bare "id", which in order exports (Shopify) is the order's.
                "email",
                "customeremail",
                "buyeremail",
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
                "created",
                "createdutc",
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

/// A header as aliases are compared: ASCII letters and digits only, lower-cased
/// (`Order Date (UTC)` → `orderdateutc`; other characters are dropped).
pub fn normalise_header(h: &str) -> String {
    h.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Column index per role. `user_id` and `timestamp` are required, and either
/// `amount` or both `quantity` and `unit_price`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// 0-based column of the customer id ([`Role::UserId`]); required.
    pub user_id: Option<usize>,
    /// 0-based column of the date or time ([`Role::Timestamp`]); required.
    pub timestamp: Option<usize>,
    /// 0-based column of the amount ([`Role::Amount`]); required unless quantity and unit
    /// price are both mapped.
    pub amount: Option<usize>,
    /// 0-based column of the quantity ([`Role::Quantity`]); used only without an amount column.
    pub quantity: Option<usize>,
    /// 0-based column of the unit price ([`Role::UnitPrice`]); used only without an amount
    /// column.
    pub unit_price: Option<usize>,
    /// 0-based column of the refund flag ([`Role::IsRefund`]).
    pub is_refund: Option<usize>,
    /// 0-based column of the currency code ([`Role::Currency`]).
    pub currency: Option<usize>,
    /// 0-based column of the invoice number ([`Role::Invoice`]).
    pub invoice: Option<usize>,
    /// 0-based column of the variable cost ([`Role::VariableCost`]); used only for margins.
    #[serde(default)]
    pub variable_cost: Option<usize>,
    /// 0-based column of the sales channel ([`Role::Channel`]).
    #[serde(default)]
    pub channel: Option<usize>,
    /// 0-based column of the country ([`Role::Country`]).
    #[serde(default)]
    pub country: Option<usize>,
}

impl ColumnMapping {
    /// The column mapped to `role`, if any.
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

    /// Map `role` to column `col`, or unmap it with `None`.
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
        RoleMatch::mapping(&RoleMatch::detect(headers))
    }

    /// Check the mapping against the header: user id and timestamp mapped, an
    /// amount, both quantity and unit price, or neither (counts only), and no
    /// column past the header's last. The error names what is missing, with the header, or the bad column.
    pub fn validate(&self, headers: &[String]) -> Result<(), IngestError> {
        let missing = |what: &str| IngestError::MissingColumn { role: what.to_string(), headers: headers.to_vec() };
        if self.user_id.is_none() {
            return Err(missing("user id (e.g. user_id, customer_id, CustomerID, client)"));
        }
        if self.timestamp.is_none() {
            return Err(missing("timestamp (e.g. ts, date, InvoiceDate, order_date)"));
        }
        // No amount and no price at all is a file of counts (id and date): the
        // count models fit it; half of quantity × price is a mistake.
        if self.amount.is_none() && self.unit_price.is_some() && self.quantity.is_none() {
            return Err(missing("quantity (to multiply unit_price by), or an amount (e.g. amount, revenue, total)"));
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

    /// Neither an amount nor a unit price: the file counts purchases only
    /// (each row is worth 0), so spend and value cannot be estimated.
    pub fn counts_only(&self) -> bool {
        self.amount.is_none() && self.unit_price.is_none()
    }

    /// Amount is derived from quantity × unit price only when there is no amount column.
    pub fn amount_from_parts(&self) -> bool {
        self.amount.is_none() && self.unit_price.is_some()
    }
}

/// How a role's column was found from its header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMatch {
    /// The role found.
    pub role: Role,
    /// The column (0-based) that got it.
    pub column: usize,
    /// The alias (lower case, letters and digits) that matched.
    pub alias: String,
    /// The header is the alias; otherwise it only contains it.
    pub exact: bool,
}

impl RoleMatch {
    /// Exact alias matches first, then (for the roles that allow it) the
    /// first header containing an alias of more than three letters.
    pub fn detect(headers: &[String]) -> Vec<RoleMatch> {
        let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
        let mut found: Vec<RoleMatch> = Vec::new();
        let mut taken = vec![false; headers.len()];
        for exact in [true, false] {
            for role in Role::ALL {
                if found.iter().any(|m| m.role == role) || !exact && !role.by_substring() {
                    continue;
                }
                let hit = role.aliases().iter().find_map(|alias| {
                    norm.iter()
                        .enumerate()
                        .position(|(i, n)| {
                            !taken[i] && if exact { n == alias } else { alias.len() > 3 && n.contains(alias) }
                        })
                        .map(|i| (i, *alias))
                });
                if let Some((column, alias)) = hit {
                    taken[column] = true;
                    found.push(RoleMatch { role, column, alias: alias.into(), exact });
                }
            }
        }
        found
    }

    /// The mapping these matches give; roles without a match stay unmapped.
    pub fn mapping(found: &[RoleMatch]) -> ColumnMapping {
        let mut m = ColumnMapping::default();
        for f in found {
            m.set(f.role, Some(f.column));
        }
        m
    }

    /// For the report: how the header gave the role.
    pub fn describe(&self) -> String {
        if self.exact {
            format!("header is {:?}", self.alias)
        } else {
            format!("header contains {:?}", self.alias)
        }
    }
}

/// Roles whose column must also look right, checked on sampled rows: a
/// refund flag must hold flags (Stripe's `Amount Refunded` holds amounts),
/// an invoice number must look like UCI's (`536365`, `C536379`). A column
/// where at least half the sampled values do not fit is unmapped; the
/// returned notes say why.
pub fn confirm_by_values(map: &mut ColumnMapping, headers: &[String], rows: &[Vec<String>]) -> Vec<(Role, String)> {
    type Fits = fn(&str) -> bool;
    let checks: [(Role, Fits, &str); 2] = [
        (Role::IsRefund, |v| super::amount::parse_flag(v).is_some(), "a refund flag (1/0, true/false, yes/no)"),
        (Role::Invoice, looks_like_invoice_number, "an invoice number (digits, C-prefixed for cancellations)"),
    ];
    let mut notes = Vec::new();
    for (role, fits, what) in checks {
        let Some(col) = map.get(role) else { continue };
        let values: Vec<&str> =
            rows.iter().filter_map(|r| r.get(col)).map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        let misfits: Vec<&&str> = values.iter().filter(|v| !fits(v)).collect();
        // A typo among flags is a row to reject; a column of mostly
        // something else is not this role at all.
        if let Some(bad) = misfits.first().filter(|_| 2 * misfits.len() >= values.len()) {
            map.set(role, None);
            let name = headers.get(col).map_or("", String::as_str);
            notes.push((
                role,
                format!(
                    "column {name:?} is not used as {}: its values (such as {bad:?}) do not look like {what}; \
                     map it by hand if it is one",
                    role.name()
                ),
            ));
        }
    }
    notes
}

fn looks_like_invoice_number(v: &str) -> bool {
    let digits = v.strip_prefix(|c: char| c.is_ascii_alphabetic()).unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
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
    fn substrings_never_make_refunds_and_order_ids_yield_to_emails() {
        // `invoice_status` / `invoice_country` are no UCI invoice numbers.
        let m = ColumnMapping::detect(&headers("customer_id,order_date,amount,invoice_status,invoice_country"));
        assert_eq!((m.invoice, m.is_refund, m.country), (None, None, Some(4)));
        let found = RoleMatch::detect(&headers("customer_id,order_date,amount,invoice_status,invoice_country"));
        let country = found.iter().find(|f| f.role == Role::Country).unwrap();
        assert_eq!(country.describe(), "header contains \"country\"");
        let m = ColumnMapping::detect(&headers("Customer,Date,Amount,Refunded Amount,Amount Refunded,InvoiceNo"));
        assert_eq!((m.is_refund, m.invoice), (None, Some(5)));
        // Shopify: the order `Id` is not the customer when there is an `Email`.
        let m = ColumnMapping::detect(&headers("Name,Email,Total,Created at,Id"));
        assert_eq!((m.user_id, m.timestamp, m.amount), (Some(1), Some(3), Some(2)));
        let m =
            ColumnMapping::detect(&headers("id,Created (UTC),Amount,Customer ID,Customer Email,Dispute Date (UTC)"));
        assert_eq!((m.user_id, m.timestamp, m.amount), (Some(3), Some(1), Some(2)));
    }

    #[test]
    fn flags_and_invoices_are_confirmed_by_their_values() {
        let h = headers("user,date,amount,refunded,invoice");
        let mut m = ColumnMapping::detect(&h);
        assert_eq!((m.is_refund, m.invoice), (Some(3), Some(4)));
        let row = |r: &str| r.split(',').map(String::from).collect::<Vec<_>>();
        let good = vec![row("a,2024-01-01,5,no,536365"), row("a,2024-01-02,5,yes,C536366")];
        assert!(confirm_by_values(&mut m.clone(), &h, &good).is_empty());
        let bad = vec![row("a,2024-01-01,5,25.00,in_1AbC"), row("a,2024-01-02,5,0.00,in_2")];
        let notes = confirm_by_values(&mut m, &h, &bad);
        assert_eq!((m.is_refund, m.invoice), (None, None));
        assert_eq!(notes[0].0, Role::IsRefund);
        assert!(
            notes[0].1.starts_with("column \"refunded\" is not used as is_refund: its values (such as \"25.00\")"),
            "{}",
            notes[0].1
        );
        assert!(notes[1].1.contains("\"in_1AbC\""), "{}", notes[1].1);
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
