#!/usr/bin/env python3
"""Regenerate the hostile ingest files tests/data/hostile/ingest-*.csv.

Deterministic (fixed seed). Each file's expected behaviour is in README.md
next to this script and asserted by crates/clv-core/tests/hostile_ingest.rs.
Run from anywhere: python3 tests/data/hostile/make_ingest.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, text, encoding="utf-8", bom=b""):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bom + text.encode(encoding))


def day(i):
    return f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"


def unclosed_quote():
    # 200 data rows (lines 2-201); line 21 opens a quote in the unused
    # "note" column that is never closed.
    rows = ["user_id,ts,amount,note"]
    for i in range(200):
        note = '"oops' if i == 19 else "ok"
        rows.append(f"u{i % 40},{day(i)},{10 + i % 7}.50,{note}")
    write("ingest-unclosed-quote.csv", "\n".join(rows) + "\n")


def decimal_evidence(rng):
    # 487 amounts like 1,500 (thousands) and one 7,5 on line 100.
    rows = ["customer_id;order_date;revenue"]
    for i in range(488):
        amount = "7,5" if i == 98 else f"{rng.randint(1, 9)},{rng.randint(0, 999):03d}"
        rows.append(f"c{i % 60};{day(i)};{amount}")
    write("ingest-decimal-evidence.csv", "\n".join(rows) + "\n")


def invoice_columns():
    rows = ["customer_id,order_date,amount,invoice_status,invoice_country"]
    for i in range(20):
        status = ["Complete", "Cancelled", "Closed", "Paid"][i % 4]
        rows.append(f"k{i % 5},{day(i)},{20 + i},{status},{['DE', 'FR'][i % 2]}")
    write("ingest-invoice-columns.csv", "\n".join(rows) + "\n")


def nonfinite():
    rows = ["user_id,ts,amount"]
    bad = ["inf", "-inf", "NaN", "1e999", "Infinity", "1e300", "-2e15", "99999999999999999999"]
    for i in range(12):
        rows.append(f"n{i % 3},{day(i)},{i + 1}")
    for i, v in enumerate(bad):
        rows.append(f"n{i % 3},{day(i)},{v}")
    write("ingest-nonfinite.csv", "\n".join(rows) + "\n")


def placeholder_ids():
    # 300 guest orders under placeholder ids, 50 orders of 10 real customers.
    rows = ["customer_id,order_date,amount"]
    placeholders = ["NULL", "null", "-", "N/A", "NA", "none", ""]
    for i in range(350):
        cid = placeholders[i % 7] if i < 300 else f"real{i % 10}"
        rows.append(f"{cid},{day(i)},{5 + i % 20}")
    write("ingest-placeholder-ids.csv", "\n".join(rows) + "\n")


def placeholder_dates():
    rows = ["user_id,ts,amount"]
    dates = ["0000-01-01", "1900-01-01", "1970-01-01", "1970-01-01T00:00:00Z", "1899-12-30",
             "1/1/1970", "1970-01-01 12:30", "2024-02-01", "2024-02-02", "2024-02-03"]
    for i, d in enumerate(dates):
        rows.append(f"p{i % 3},{d},{i + 1}")
    write("ingest-placeholder-dates.csv", "\n".join(rows) + "\n")


EUROPEAN = "Kunde;Datum;Umsatz\nMüller;05.03.2024;12,50\nJosé;06.03.2024;7,25\nRenée;07.03.2024;3,00\nMüller;08.03.2024;1,75\n"


def encodings():
    write("ingest-utf16le-bom.csv", EUROPEAN, "utf-16-le", b"\xff\xfe")
    write("ingest-utf16be-bom.csv", EUROPEAN, "utf-16-be", b"\xfe\xff")
    write("ingest-utf16le-nobom.csv", EUROPEAN, "utf-16-le")
    write("ingest-windows1252.csv", EUROPEAN.replace("Renée", "Renée €"), "cp1252")


STRIPE_HEADER = ("id,Description,Seller Message,Created (UTC),Amount,Amount Refunded,Currency,Converted Amount,"
                 "Converted Amount Refunded,Fee,Tax,Converted Currency,Mode,Status,Statement Descriptor,Customer ID,"
                 "Customer Description,Customer Email,Captured,Card ID,Card Last4,Card Brand,Card Address Country,"
                 "Disputed Amount,Dispute Status,Dispute Date (UTC),Invoice ID,PaymentIntent ID")


def stripe(rng):
    rows = [STRIPE_HEADER]
    for i in range(40):
        amount = f"{rng.randint(5, 200)}.00"
        refunded = amount if i % 10 == 3 else "0.00"
        status = "Refunded" if i % 10 == 3 else "Paid"
        cust = f"cus_{1000 + i % 12}"
        rows.append(",".join([
            f"ch_{i:04d}", "Subscription update", "Payment complete.", f"2024-{1 + i % 6:02d}-{1 + i % 27:02d} 14:03:22",
            amount, refunded, "usd", amount, refunded, "0.59", "0.00", "usd", "Live", status, "SHOP",
            cust, "", f"c{i % 12}@example.com", "true", f"card_{i}", "4242", "Visa", "US",
            "0.00", "", "", f"in_1Ab{i:03d}", f"pi_{i:04d}"]))
    write("ingest-stripe.csv", "\n".join(rows) + "\n")


SHOPIFY_HEADER = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,"
                  "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,"
                  "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing City,"
                  "Billing Country,Shipping Country,Notes,Cancelled at,Payment Method,Refunded Amount,Vendor,"
                  "Outstanding Balance,Id,Tags,Risk Level,Source,Phone")


def shopify(rng):
    rows = [SHOPIFY_HEADER]
    for i in range(30):
        total = f"{rng.randint(10, 90)}.{rng.randint(0, 99):02d}"
        refunded = total if i % 10 == 7 else "0.00"
        status = "refunded" if i % 10 == 7 else "paid"
        created = f"2024-{1 + i % 6:02d}-{1 + i % 27:02d} 10:{i % 60:02d}:00 -0500"
        email = f"buyer{i % 9}@example.com"
        rows.append(",".join([
            f"#{1001 + i}", email, status, created, "fulfilled", created, "no", "USD", total, "0.00", "0.00",
            total, "", "0.00", "Standard", created, "1", "Mug", total, "MUG-1", f"Buyer {i % 9}", "Springfield",
            "US", "US", "", "", "Shopify Payments", refunded, "Acme", "0.00", str(5000000000 + i), "", "Low",
            "web", ""]))
        if i == 4:
            # A second line item: order-level columns (Total, Created at) are empty.
            rows.append(",".join([f"#{1001 + i}", email] + [""] * 14 + ["2", "Spoon", "3.00", "SP-1"]
                                 + [""] * 15))
    write("ingest-shopify.csv", "\n".join(rows) + "\n")


if __name__ == "__main__":
    rng = random.Random(12)
    unclosed_quote()
    decimal_evidence(rng)
    invoice_columns()
    nonfinite()
    placeholder_ids()
    placeholder_dates()
    encodings()
    stripe(rng)
    shopify(rng)
