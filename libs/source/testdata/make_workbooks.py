"""Writes the Excel workbooks that Kalla's tests and the bank example read,
with openpyxl: a writer independent of Kalla's reader, saving cells as
spreadsheet programs do (shared strings, styles with number formats, dates
as serial numbers).

    pip install openpyxl==3.1.5
    python3 libs/source/testdata/make_workbooks.py

The files are committed; running it again gives the same cells.
"""

import datetime as dt
import os

from openpyxl import Workbook

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", "..", ".."))


def save(wb, path):
    # A fixed time, so that the file's properties do not change.
    wb.properties.created = wb.properties.modified = dt.datetime(2024, 3, 14)
    wb.save(path)


def cells():
    """testdata/cells.xlsx: values of every kind TestWorkbookFromOpenpyxl
    checks, on sheet "Cells"; sheet "Formulas" holds a formula saved
    without its value, as openpyxl saves formulas."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Cells"
    ws.append(["id", "booked", "at", "amount", "memo", "code", "flag"])
    rows = [
        (1, dt.date(2024, 1, 15), dt.datetime(2024, 1, 15, 13, 45), 1234.5, "ACME, Inc.", "007", True),
        (2, dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 0, 0, 30), 0.1 + 0.2, "  padded  ", "0042", False),
        (3, None, None, -12, "Grüße ✓", None, None),
        (4, dt.date(1999, 12, 31), dt.datetime(2024, 12, 31, 23, 59, 59), 1e-3, 'say "hi"\nbye', "A-1", True),
    ]
    for r in rows:
        ws.append(list(r))
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "DD/MM/YYYY"
    ws["D4"].number_format = "#,##0.00"
    other = wb.create_sheet("Formulas")
    other.append(["n", "twice"])
    other.append([1, "=A2*2"])
    save(wb, os.path.join(here, "cells.xlsx"))


def statement():
    """examples/bank/statement.xlsx: the bank example's statement.csv as
    the bank's workbook: a summary sheet first, then the transactions
    under three title rows and a blank one."""
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    summary.append(["Kalla Bank plc"])
    summary.append(["Opening balance", 10000.00])
    summary.append(["Closing balance", 1947.75])
    ws = wb.create_sheet("Transactions")
    ws.append(["Kalla Bank plc"])
    ws.append(["Statement of account 12-34-56 87654321"])
    ws.append(["1 March 2024 to 13 March 2024"])
    ws.append([])
    ws.append(["txn_id", "date", "memo", "paid_in", "paid_out"])
    rows = [
        ("B-101", dt.date(2024, 3, 1), "SEPA CT INV-1001 ACME LTD", None, 1200.00),
        ("B-102", dt.date(2024, 3, 4), "inv-1002 globex", None, 350.50),
        ("B-103", dt.date(2024, 3, 5), "CARD PAYMENT INITECH", None, 89.99),
        ("B-104", dt.date(2024, 3, 5), "INV-1004 UMBRELLA CORP", None, 5000.10),
        ("B-105", dt.date(2024, 3, 9), "TRANSFER INV-1005", None, 410.00),
        ("B-106", dt.date(2024, 3, 10), "INTEREST", 12.34, None),
        ("B-107", dt.date(2024, 3, 12), "INV-1007 GLOBEX", None, 999.00),
        ("B-108", dt.date(2024, 3, 13), "BANK FEE", None, 15.00),
    ]
    for r in rows:
        ws.append(list(r))
    for row in ws.iter_rows(min_row=6):
        row[1].number_format = "DD/MM/YYYY"
        row[3].number_format = row[4].number_format = "#,##0.00"
    save(wb, os.path.join(root, "examples", "bank", "statement.xlsx"))


def faults():
    """services/kalla/testdata/statement-faults.xlsx: the statement's
    transactions with a fault a sheet: "Duplicates" holds B-103 on rows 4
    and 6, "Text amounts" an n/a among the amounts paid out, on row 3."""
    wb = Workbook()
    dup = wb.active
    dup.title = "Duplicates"
    text = wb.create_sheet("Text amounts")
    header = ["txn_id", "date", "memo", "paid_in", "paid_out"]
    dup.append(header)
    text.append(header)
    day = dt.date(2024, 3, 5)
    for txn in ["B-101", "B-102", "B-103", "B-104", "B-103"]:
        dup.append([txn, day, "CARD PAYMENT", None, 89.99])
    for txn, out in [("B-101", 1200.0), ("B-102", "n/a"), ("B-103", 89.99)]:
        text.append([txn, day, "CARD PAYMENT", None, out])
    for ws in (dup, text):
        for row in ws.iter_rows(min_row=2):
            row[1].number_format = "DD/MM/YYYY"
    save(wb, os.path.join(root, "services", "kalla", "testdata", "statement-faults.xlsx"))


def payments_by_month():
    """services/kalla/testdata/payments-by-month.xlsx: the bank example's
    payments.csv as a ledger keeps them, a sheet a week after a sheet of
    notes; and two sheets "dup a" and "dup b" that both hold PAY-01."""
    wb = Workbook()
    notes = wb.active
    notes.title = "Read me"
    notes.append(["Supplier payments, one sheet a week"])
    header = ["payment_id", "paid_on", "invoice", "supplier", "amount"]
    payments = [
        ("PAY-01", dt.date(2024, 3, 1), "INV-1001", "Acme Ltd", 1200.00),
        ("PAY-02", dt.date(2024, 3, 2), "INV-1002", "Globex", 350.50),
        ("PAY-03", dt.date(2024, 3, 4), "INV-1003", "Initech", 89.99),
        ("PAY-04", dt.date(2024, 3, 5), "INV-1004", "Umbrella Corp", 5000.00),
        ("PAY-05", dt.date(2024, 3, 7), "INV-1005", "Acme Ltd", 410.00),
        ("PAY-06", dt.date(2024, 3, 8), "INV-1006", "Hooli", 72.10),
        ("PAY-07", dt.date(2024, 3, 11), "INV-1007", "Globex", 999.00),
    ]
    for title, rows in [("2024-03 week 1", payments[:3]), ("2024-03 week 2", payments[3:]), ("dup a", payments[:1]), ("dup b", payments[:2])]:
        ws = wb.create_sheet(title)
        ws.append(header)
        for r in rows:
            ws.append(list(r))
        for row in ws.iter_rows(min_row=2):
            row[1].number_format = "DD/MM/YYYY"
            row[4].number_format = "#,##0.00"
    save(wb, os.path.join(root, "services", "kalla", "testdata", "payments-by-month.xlsx"))


cells()
statement()
faults()
payments_by_month()
