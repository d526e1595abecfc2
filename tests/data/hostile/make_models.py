"""Small and boundary transaction files for the model fits (issue 12), each
with its expected behaviour in README.md (section "Models") and asserted by
crates/clv-core/tests/hostile_models.rs. Deterministic:

    python3 tests/data/hostile/make_models.py
"""
import math
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent
START = date(2023, 1, 2)


def poisson_times(rng, rate_per_week, weeks):
    """Event times (weeks) of a Poisson process on [0, weeks)."""
    t, out = 0.0, []
    while True:
        t += rng.expovariate(rate_per_week)
        if t >= weeks:
            return out
        out.append(t)


def bg_customer(rng, lam, p, weeks):
    """BG/NBD: after each repeat purchase the customer leaves with probability p."""
    times = []
    for t in poisson_times(rng, lam, weeks):
        times.append(t)
        if rng.random() < p:
            break
    return times


def write(name, header, rows, sep=","):
    with open(HERE / name, "w", newline="") as f:
        f.write(sep.join(header) + "\n")
        for r in rows:
            f.write(sep.join(r) + "\n")


def transactions(customers, weeks, rng, fmt=lambda d: d.isoformat(), money=lambda v: f"{v:.2f}"):
    rows = []
    for cid, (join_week, times) in enumerate(customers):
        for t in [0.0] + times:
            day = START + timedelta(days=int((join_week + t) * 7))
            if (day - START).days >= weeks * 7:
                continue
            rows.append((day, f"c{cid:04d}", money(rng.gammavariate(4, 10))))
    rows.sort()
    return [(cid, fmt(day), amount) for day, cid, amount in rows]


def no_rate_heterogeneity(rng):
    # Everyone buys at 0.6 a week and leaves after a purchase with p = 0.15.
    cs = [(rng.uniform(0, 8), bg_customer(rng, 0.6, 0.15, 52)) for _ in range(200)]
    write("models-no-heterogeneity.csv", ["user_id", "ts", "amount"], transactions(cs, 60, rng))


def nobody_leaves(rng):
    # Rates differ (gamma r = 2, α = 4 weeks), nobody ever leaves.
    cs = []
    for _ in range(200):
        join = rng.uniform(0, 8)
        cs.append((join, poisson_times(rng, rng.gammavariate(2, 1 / 4), 52)))
    write("models-nobody-leaves.csv", ["user_id", "ts", "amount"], transactions(cs, 60, rng))


def semicolon_40(rng):
    # A 40-customer export: semicolons, DD.MM.YYYY, decimal commas.
    cs = []
    for _ in range(40):
        lam = rng.gammavariate(0.8, 1 / 3)
        cs.append((rng.uniform(0, 20), bg_customer(rng, lam, rng.betavariate(1, 3), 40)))
    rows = transactions(cs, 60, rng, fmt=lambda d: d.strftime("%d.%m.%Y"), money=lambda v: f"{v:.2f}".replace(".", ","))
    write("models-40-semicolon.csv", ["Kunde", "Datum", "Betrag"], rows, sep=";")


def online_retail_150(rng):
    # UCI Online Retail layout, 150 customers, a few invoices each, one refund.
    rows, inv = [], 536365
    for cid in range(150):
        join = rng.uniform(0, 30)
        times = [0.0] + bg_customer(rng, rng.gammavariate(0.5, 1 / 2), rng.betavariate(1, 2), 52)
        for t in times:
            day = START + timedelta(days=int((join + t) * 7), hours=9 + rng.randrange(8))
            if (day - START).days >= 60 * 7:
                continue
            for _ in range(rng.randrange(1, 4)):
                rows.append((day, str(inv), f"{rng.randrange(10000, 99999)}", "ITEM", str(rng.randrange(1, 13)),
                             f"{rng.choice([0.85, 1.25, 2.1, 4.95]):.2f}", str(12346 + cid), "United Kingdom"))
            inv += 1
    rows.sort()
    refund = list(rows[10])
    refund[1] = "C" + refund[1]
    refund[4] = "-" + refund[4]
    rows.append(tuple(refund))
    out = [(r[1], r[2], r[3], r[4], r[0].strftime("%m/%d/%Y %H:%M"), r[5], r[6], r[7]) for r in rows]
    write("models-150-online-retail.csv",
          ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"], out)


def tiny(rng):
    write("models-one-row.csv", ["user_id", "ts", "amount"], [("a", "2024-01-01", "10.00")])
    write("models-5-rows.csv", ["user_id", "ts", "amount"],
          [("a", "2024-01-01", "10"), ("a", "2024-01-09", "12"), ("b", "2024-01-03", "7"),
           ("c", "2024-01-05", "30"), ("c", "2024-02-01", "25")])
    for n in (2, 7, 30):
        rows = []
        for c in range(n):
            first = rng.randrange(0, 60)
            for k in range(rng.choice([1, 1, 2, 3, 6])):
                rows.append((START + timedelta(days=first + 9 * k + rng.randrange(0, 5)), f"u{c}", f"{rng.uniform(1, 90):.2f}"))
        rows.sort()
        write(f"models-random-{n}.csv", ["user_id", "ts", "amount"], [(c, d.isoformat(), a) for d, c, a in rows])


rng = random.Random(12)
no_rate_heterogeneity(rng)
nobody_leaves(rng)
semicolon_40(rng)
online_retail_150(rng)
tiny(rng)
print("written")
